import { type DescMessage, type JsonValue, type MessageShape, toJson } from "@bufbuild/protobuf";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { stringify } from "yaml";
import type { OutputFormat } from "./settings.js";

export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  status(s: string): string;
}

/** Colours only on a terminal and never with NO_COLOR set (https://no-color.org). */
export function styleFor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): Style {
  const on = stream.isTTY === true && !env.NO_COLOR && env.TERM !== "dumb";
  const wrap = (code: string) => (s: string) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);
  const green = wrap("32");
  const red = wrap("31");
  const yellow = wrap("33");
  return {
    bold: wrap("1"),
    dim: wrap("2"),
    status(s) {
      if (["finished", "ready", "in-sync", "active", "true"].includes(s)) return green(s);
      if (["error", "on-error", "canceled", "evicted", "terminated"].includes(s)) return red(s);
      return yellow(s);
    },
  };
}

export function messageJson<Desc extends DescMessage>(schema: Desc, msg: MessageShape<Desc>): JsonValue {
  return toJson(schema, msg, { alwaysEmitImplicit: true });
}

export type Cell = string | number | boolean | undefined;

/** Left-aligned columns separated by two spaces; colour codes are not counted in the width. */
export function renderTable(
  headers: string[],
  rows: Cell[][],
  style: Style,
  colour?: (col: number, v: string) => string,
): string {
  const text = rows.map((r) => r.map((c) => (c === undefined ? "" : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[], paint?: (i: number, v: string) => string) =>
    cells
      .map((c, i) => {
        const pad = " ".repeat((widths[i] ?? 0) - c.length);
        return (paint ? paint(i, c) : c) + (i === cells.length - 1 ? "" : pad);
      })
      .join("  ")
      .trimEnd();
  const head = line(headers, (_, v) => style.bold(v));
  if (text.length === 0) return `${head}\n`;
  return `${[head, ...text.map((r) => line(r, colour))].join("\n")}\n`;
}

/** Key/value lines for one object in table mode. */
export function renderFields(fields: [string, Cell][], style: Style): string {
  const width = Math.max(...fields.map(([k]) => k.length));
  return `${fields
    .filter(([, v]) => v !== undefined && v !== "")
    .map(([k, v]) => `${style.bold(`${k}:`)}${" ".repeat(width - k.length + 1)}${String(v)}`)
    .join("\n")}\n`;
}

export function writeStructured(format: Exclude<OutputFormat, "table" | "wide">, value: JsonValue): string {
  return format === "json" ? `${JSON.stringify(value, null, 2)}\n` : stringify(value);
}

export function formatTime(ts: Timestamp | undefined): string {
  if (!ts) return "";
  const ms = Number(ts.seconds) * 1000 + Math.floor(ts.nanos / 1e6);
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Compact age such as 5s, 3m, 2h, 4d. */
export function age(ts: Timestamp | undefined, now = Date.now()): string {
  if (!ts) return "";
  const s = Math.max(0, Math.floor((now - Number(ts.seconds) * 1000) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}
