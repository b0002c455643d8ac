import { once } from "node:events";
import { connect, type Socket } from "node:net";

export interface PlayRoundOptions {
  host: string;
  port: number;
  /** Lines sent one at a time; each must come back before the next is sent. */
  lines: readonly string[];
  /** How long to stay connected after the exchange (the room is occupied meanwhile). @defaultValue 0 */
  holdMs?: number;
  /** Ends the hold early without failing the round (the CLI fires it on Ctrl-C). */
  endHold?: AbortSignal;
  /** How long to wait for each reply. @defaultValue 5_000 */
  replyTimeoutMs?: number;
  /** Aborting fails the round. */
  signal?: AbortSignal;
  /** Called with what happens, for a human watching. */
  log?: (message: string) => void;
}

export interface RoundResult {
  sent: number;
  echoed: number;
  /** The room's answer to `stats` (its client count and id), if it answered with JSON. */
  stats: Record<string, unknown> | undefined;
  /** Lines the server sent that were not replies, e.g. "server shutting down". */
  serverMessages: string[];
}

/**
 * Plays one round against the example game room (line-based TCP echo): sends each line and waits for its echo, asks
 * for `stats`, holds the connection for a while, then disconnects, which ends the match on the room's side.
 */
export async function playRound(options: PlayRoundOptions): Promise<RoundResult> {
  const log = options.log ?? (() => {});
  const socket = connect({ host: options.host, port: options.port });
  const lines = new LineReader(socket);
  // Not events.once: it would reject on "error" and leave an unhandled rejection when the round fails earlier.
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  try {
    await raceAbort(once(socket, "connect"), options.signal);
    log(`connected to ${options.host}:${options.port}`);
    const result: RoundResult = { sent: 0, echoed: 0, stats: undefined, serverMessages: [] };
    const timeout = options.replyTimeoutMs ?? 5_000;
    for (const line of options.lines) {
      socket.write(`${line}\n`);
      result.sent += 1;
      const reply = await lines.next(timeout, options.signal);
      if (reply === line) {
        result.echoed += 1;
        log(`sent ${JSON.stringify(line)}, got it back`);
      } else {
        result.serverMessages.push(reply);
        log(`sent ${JSON.stringify(line)}, server said ${JSON.stringify(reply)}`);
      }
    }
    socket.write("stats\n");
    const stats = await lines.next(timeout, options.signal);
    result.stats = parseObject(stats);
    log(`room stats: ${stats}`);
    const holdMs = options.holdMs ?? 0;
    if (holdMs > 0) {
      log(`holding the match for ${holdMs} ms`);
      await hold(holdMs, options.endHold, options.signal);
    }
    result.serverMessages.push(...lines.drain());
    socket.end();
    await closed;
    log("disconnected");
    return result;
  } finally {
    socket.destroy();
  }
}

/** Splits a socket's bytes into lines and hands them out one `next()` at a time. */
class LineReader {
  readonly #queue: string[] = [];
  #buffer = "";
  #waiter: ((line: string) => void) | undefined;
  #failure: Error | undefined;
  #fail: ((error: Error) => void) | undefined;

  constructor(socket: Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      this.#buffer += chunk;
      for (let i = this.#buffer.indexOf("\n"); i >= 0; i = this.#buffer.indexOf("\n")) {
        const line = this.#buffer.slice(0, i).replace(/\r$/, "");
        this.#buffer = this.#buffer.slice(i + 1);
        if (this.#waiter) this.#waiter(line);
        else this.#queue.push(line);
      }
    });
    const stop = (error: Error): void => {
      this.#failure ??= error;
      this.#fail?.(this.#failure);
    };
    socket.on("error", stop);
    socket.on("close", () => stop(new Error("the game room closed the connection")));
  }

  next(timeoutMs: number, signal: AbortSignal | undefined): Promise<string> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`no reply within ${timeoutMs} ms`)), timeoutMs);
      const onAbort = (): void => done(signal?.reason ?? new Error("aborted"));
      const done = (outcome: string | Error): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.#waiter = undefined;
        this.#fail = undefined;
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      this.#waiter = done;
      this.#fail = done;
      if (signal?.aborted) onAbort();
      else signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  drain(): string[] {
    return this.#queue.splice(0);
  }
}

async function hold(ms: number, endHold: AbortSignal | undefined, signal: AbortSignal | undefined): Promise<void> {
  if (endHold?.aborted) return;
  if (signal?.aborted) throw signal.reason;
  await new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      endHold?.removeEventListener("abort", finish);
      signal?.removeEventListener("abort", fail);
    };
    const finish = (): void => {
      cleanup();
      resolve();
    };
    const fail = (): void => {
      cleanup();
      reject(signal?.reason ?? new Error("aborted"));
    };
    const timer = setTimeout(finish, ms);
    endHold?.addEventListener("abort", finish, { once: true });
    signal?.addEventListener("abort", fail, { once: true });
  });
}

async function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) throw signal.reason;
  let onAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([promise, aborted]);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
