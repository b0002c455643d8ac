import pino from "pino";
import type { Logger } from "./core/ports/logger.js";

export type LogFormat = "auto" | "pretty" | "json";

/**
 * Structured logs on stdout (pino): one JSON object per line, or one readable line per entry for people (`pretty`,
 * formatted in this thread: no pino-pretty worker). `auto` is pretty on a terminal and JSON otherwise.
 */
export function createLogger(level: string, format: LogFormat = "json"): Logger {
  const pretty = format === "pretty" || (format === "auto" && process.stdout.isTTY === true);
  return pino(
    {
      level,
      base: { service: "maestro" },
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: pino.stdSerializers.err },
    },
    pretty ? prettyStream(process.stdout, process.stdout.isTTY === true) : pino.destination({ dest: 1, sync: true }),
  ) as unknown as Logger;
}

const levelNames: Record<number, string> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO",
  40: "WARN",
  50: "ERROR",
  60: "FATAL",
};
const levelColors: Record<number, string> = { 10: "90", 20: "36", 30: "32", 40: "33", 50: "31", 60: "35" };
/** Shown first, in this order, when present: where the entry comes from. */
const leading = ["module", "component", "scheduler", "operation", "operationId", "room", "roomId"];
const hidden = new Set(["level", "time", "msg", "pid", "hostname", "service", ...leading]);

/** `12:00:00.000 INFO  [worker scheduler=s1] message key=value …`, errors with their stack on the next lines. */
export function formatPretty(line: string, color = false): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const level = Number(entry.level);
  const name = (levelNames[level] ?? String(entry.level)).padEnd(5);
  const time = typeof entry.time === "string" ? entry.time.slice(11, 23) : "";
  const where = leading
    .filter((k) => entry[k] !== undefined)
    .map((k) => (k === "module" || k === "component" ? String(entry[k]) : `${k}=${String(entry[k])}`));
  const rest: string[] = [];
  let stack = "";
  for (const [k, v] of Object.entries(entry)) {
    if (hidden.has(k)) continue;
    if (k === "err" && v && typeof v === "object") {
      const e = v as { message?: string; stack?: string };
      rest.push(`err=${JSON.stringify(e.message ?? "")}`);
      if (e.stack) stack = `\n    ${e.stack.split("\n").join("\n    ")}`;
      continue;
    }
    rest.push(`${k}=${typeof v === "string" && !/\s|"/.test(v) ? v : JSON.stringify(v)}`);
  }
  const lvl = color ? `\u001b[${levelColors[level] ?? "0"}m${name}\u001b[0m` : name;
  const scope = where.length > 0 ? ` [${where.join(" ")}]` : "";
  return `${time} ${lvl}${scope} ${String(entry.msg ?? "")}${rest.length > 0 ? ` ${rest.join(" ")}` : ""}${stack}\n`;
}

function prettyStream(out: NodeJS.WritableStream, color: boolean): { write(line: string): void } {
  return { write: (line: string) => void out.write(formatPretty(line, color)) };
}
