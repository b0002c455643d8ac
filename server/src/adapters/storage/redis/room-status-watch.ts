import type { Redis } from "ioredis";
import type { MaestroError } from "../../../core/errors.js";
import { type Logger, silentLogger } from "../../../core/ports/logger.js";
import type { RoomStatusEvent } from "../../../core/ports/room-storage.js";
import { dedicatedConnection } from "./redis-client.js";
import { toMaestroError } from "./redis-errors.js";
import { roomStatusChannel } from "./redis-keys.js";
import { decodeStatusEvent } from "./room-hash.js";

/**
 * One watcher of a scheduler's status channel on a subscriber connection of its own, which reconnects and resubscribes
 * after an outage (changes published meanwhile are lost, as with any Redis PUB/SUB). The iteration ends when the
 * signal aborts or the consumer stops, and throws `unavailable` when the first subscription cannot be made.
 */
export class RoomStatusWatch implements AsyncIterable<RoomStatusEvent> {
  private readonly buffer: RoomStatusEvent[] = [];
  private wake: (() => void) | undefined;
  private closed = false;
  private failure: MaestroError | undefined;
  private conn: Redis | undefined;
  private readonly onAbort = () => this.close();

  constructor(
    client: Redis,
    private readonly schedulerName: string,
    private readonly signal: AbortSignal,
    private readonly logger: Logger = silentLogger,
  ) {
    if (signal.aborted) {
      this.closed = true;
      return;
    }
    signal.addEventListener("abort", this.onAbort, { once: true });
    this.subscribe(client).catch((e: unknown) => this.fail(e));
  }

  [Symbol.asyncIterator](): AsyncIterator<RoomStatusEvent> {
    return {
      next: async () => {
        for (;;) {
          const event = this.buffer.shift();
          if (event !== undefined) return { done: false, value: event };
          if (this.failure !== undefined) throw this.failure;
          if (this.closed) return { done: true, value: undefined };
          await new Promise<void>((resolve) => {
            this.wake = resolve;
          });
        }
      },
      return: async () => {
        this.close();
        return { done: true, value: undefined };
      },
    };
  }

  private async subscribe(client: Redis): Promise<void> {
    const channel = roomStatusChannel(this.schedulerName);
    const conn = await dedicatedConnection(client, "room-status", { signal: this.signal, reconnect: true });
    if (this.closed) {
      conn.disconnect();
      return;
    }
    this.conn = conn;
    conn.on("message", (from: string, message: string) => {
      if (from !== channel || this.closed) return;
      const event = decodeStatusEvent(message);
      if (event === undefined) {
        this.logger.warn({ message, schedulerName: this.schedulerName }, "ignoring malformed room status message");
        return;
      }
      this.buffer.push({ schedulerName: this.schedulerName, ...event });
      this.wakeUp();
    });
    await conn.subscribe(channel);
  }

  private fail(reason: unknown): void {
    if (this.closed) return;
    this.failure = toMaestroError(reason);
    this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.failure === undefined) this.buffer.length = 0;
    this.signal.removeEventListener("abort", this.onAbort);
    this.conn?.disconnect();
    this.conn = undefined;
    this.wakeUp();
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
