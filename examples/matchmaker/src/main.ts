#!/usr/bin/env node
import { parseArgs } from "node:util";
import { createMaestroClient } from "@maestro/sdk-management";
import { readAllocation } from "./allocation-file.js";
import { type ForwardedEvent, startEventReceiver } from "./event-receiver.js";
import { playRound } from "./game-client.js";
import { ALLOCATE_HELP, HELP, PLAY_HELP, SERVE_HELP } from "./help.js";
import { allocateAndPlay } from "./match.js";

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "-h" || command === "--help" || command === "help") {
    process.stdout.write(HELP);
    return command === undefined ? 2 : 0;
  }
  if (command === "allocate") return allocate(rest);
  if (command === "play") return play(rest);
  if (command === "serve-events") return serveEvents(rest);
  throw new UsageError(`unknown command '${command}' (commands: allocate, play, serve-events)`);
}

async function allocate(args: string[]): Promise<number> {
  const { values } = parse(args, {
    scheduler: { type: "string" },
    url: { type: "string" },
    "rooms-url": { type: "string" },
    token: { type: "string" },
    "matchmaker-token": { type: "string" },
    "port-name": { type: "string" },
    lines: { type: "string" },
    "hold-ms": { type: "string" },
    "events-port": { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    process.stdout.write(ALLOCATE_HELP);
    return 0;
  }
  if (!values.scheduler) throw new UsageError("allocate needs --scheduler <name>");
  const lineCount = integer("--lines", values.lines ?? "3", 1);
  const holdMs = integer("--hold-ms", values["hold-ms"] ?? "0", 0);
  const eventsPort =
    values["events-port"] === undefined ? undefined : integer("--events-port", values["events-port"], 0);
  const json = values.json === true;
  const log = (message: string): void => {
    (json ? process.stderr : process.stdout).write(`${message}\n`);
  };

  const { endHold, abort, release } = interrupts();

  const receiver = eventsPort === undefined ? undefined : await startEventReceiver({ port: eventsPort });
  if (receiver) log(`receiving forwarded events on ${receiver.address}`);
  try {
    const client = createMaestroClient({
      baseUrl: values.url ?? process.env["MAESTRO_URL"] ?? "http://127.0.0.1:8080",
      roomsApiUrl: values["rooms-url"] ?? process.env["MAESTRO_ROOMS_URL"] ?? "http://127.0.0.1:8070",
      token: values.token ?? (process.env["MAESTRO_TOKEN"] || undefined),
      matchmakerToken: values["matchmaker-token"] ?? (process.env["MAESTRO_MATCHMAKER_TOKEN"] || undefined),
    });
    const lines = Array.from({ length: lineCount }, (_, i) => `hello ${i + 1} from the matchmaker`);
    const result = await allocateAndPlay({
      client,
      scheduler: values.scheduler,
      portName: values["port-name"],
      lines,
      holdMs,
      endHold: endHold.signal,
      signal: abort.signal,
      log,
    });
    let events: ForwardedEvent[] = [];
    if (receiver) {
      // The room reports the player leaving right after the disconnect; wait a little for it to be forwarded.
      await receiver
        .waitFor((e) => e.roomId === result.room.id && e.kind === "playerEvent" && /LEFT/.test(e.summary), {
          timeoutMs: 3_000,
          signal: abort.signal,
        })
        .catch(() => undefined);
      events = receiver.events.filter((e) => e.roomId === result.room.id);
      log(`forwarded events of room ${result.room.id}: ${events.length}`);
      for (const event of events) log(`  ${event.summary}`);
    }
    const ok = result.round.echoed === result.round.sent;
    log(`round over: ${result.round.echoed}/${result.round.sent} lines echoed by room ${result.room.id}`);
    if (json) {
      const out = { ...result, events: receiver ? events.map(({ kind, summary }) => ({ kind, summary })) : undefined };
      process.stdout.write(`${JSON.stringify(out)}\n`);
    }
    return ok ? 0 : 1;
  } finally {
    release();
    await receiver?.close();
  }
}

async function play(args: string[]): Promise<number> {
  const { values } = parse(args, {
    address: { type: "string" },
    allocation: { type: "string" },
    "port-name": { type: "string" },
    lines: { type: "string" },
    "hold-ms": { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    process.stdout.write(PLAY_HELP);
    return 0;
  }
  if ((values.address === undefined) === (values.allocation === undefined)) {
    throw new UsageError("play needs either --address <host:port> or --allocation <file|->");
  }
  const { host, port, roomId } =
    values.allocation !== undefined
      ? await readAllocation(values.allocation, values["port-name"] ?? "game")
      : parseAddress(values.address ?? "");
  const lineCount = integer("--lines", values.lines ?? "3", 1);
  const holdMs = integer("--hold-ms", values["hold-ms"] ?? "0", 0);
  const json = values.json === true;
  const log = (message: string): void => {
    (json ? process.stderr : process.stdout).write(`${message}\n`);
  };
  const { endHold, abort, release } = interrupts();
  if (roomId) log(`playing in room ${roomId} at ${host}:${port}`);
  try {
    const round = await playRound({
      host,
      port,
      lines: Array.from({ length: lineCount }, (_, i) => `hello ${i + 1} from the matchmaker`),
      holdMs,
      endHold: endHold.signal,
      signal: abort.signal,
      log,
    });
    log(`round over: ${round.echoed}/${round.sent} lines echoed by ${host}:${port}`);
    if (json) process.stdout.write(`${JSON.stringify({ room: { host, port }, round })}\n`);
    return round.echoed === round.sent ? 0 : 1;
  } finally {
    release();
  }
}

function parseAddress(address: string): { host: string; port: number; roomId: undefined } {
  const match = /^(.+):(\d+)$/.exec(address);
  if (!match) throw new UsageError(`--address must be host:port, got ${JSON.stringify(address)}`);
  const host = (match[1] ?? "").replace(/^\[(.*)\]$/, "$1");
  return { host, port: integer("--address port", match[2] ?? "", 1), roomId: undefined };
}

/** First Ctrl-C (or SIGTERM) ends the hold and the round still finishes cleanly; a second one gives up. */
function interrupts(): { endHold: AbortController; abort: AbortController; release: () => void } {
  const endHold = new AbortController();
  const abort = new AbortController();
  const onInterrupt = (): void => {
    if (!endHold.signal.aborted) endHold.abort();
    else abort.abort(new Error("interrupted"));
  };
  process.on("SIGINT", onInterrupt);
  process.on("SIGTERM", onInterrupt);
  return {
    endHold,
    abort,
    release: () => {
      process.off("SIGINT", onInterrupt);
      process.off("SIGTERM", onInterrupt);
    },
  };
}

async function serveEvents(args: string[]): Promise<number> {
  const { values } = parse(args, {
    port: { type: "string" },
    host: { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  const json = values.json === true;
  const receiver = await startEventReceiver({
    port: integer("--port", values.port ?? "9090", 0),
    host: values.host ?? "127.0.0.1",
    onEvent: (e) => {
      process.stdout.write(
        json
          ? `${JSON.stringify({ kind: e.kind, receivedAt: e.receivedAt, roomId: e.roomId, game: e.game, message: e.message })}\n`
          : `${e.receivedAt.toISOString()} ${e.summary}\n`,
      );
    },
  });
  const announce = `receiving forwarded events on ${receiver.address} (gRPC eventforwarder.GRPCForwarder); Ctrl-C stops`;
  (json ? process.stderr : process.stdout).write(`${announce}\n`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  await receiver.close();
  (json ? process.stderr : process.stdout).write(`stopped after ${receiver.events.length} event(s)\n`);
  return 0;
}

function parse<T extends NonNullable<Parameters<typeof parseArgs>[0]>["options"]>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false });
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
}

function integer(flag: string, value: string, min: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`${flag} must be an integer of at least ${min}, got ${JSON.stringify(value)}`);
  }
  return n;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    const message = e instanceof Error ? e.message : String(e);
    process.stderr.write(`matchmaker: ${message}\n`);
    if (e instanceof UsageError) process.stderr.write(`run with --help for usage\n`);
    process.exit(e instanceof UsageError ? 2 : 1);
  },
);
