import type { Redis } from "ioredis";
import type { CallOptions } from "../../../core/ports/call-options.js";
import type { CancelRequest, CancelSignals } from "../../../core/ports/cancel-signals.js";
import { type Logger, silentLogger } from "../../../core/ports/logger.js";
import { dedicatedConnection } from "./redis-client.js";
import { canceled, redisCall, toMaestroError } from "./redis-errors.js";
import { cancellationChannel } from "./redis-keys.js";

export type { CancelRequest };

export type CancelHandler = (request: CancelRequest) => void | Promise<void>;

/**
 * Cross-process operation cancel requests over Maestro's PUB/SUB channel `scheduler:operation_cancellation_requests`,
 * with Maestro's message `{"schedulerName","operationID"}`. Delivery is fire-and-forget, as in Maestro: a process that
 * is not subscribed at the moment of publish never sees the request.
 */
export class RedisCancelSignals implements CancelSignals {
  constructor(
    private readonly client: Redis,
    private readonly logger: Logger = silentLogger,
  ) {}

  /** Announces a cancel request to every subscribed process; resolves with how many received it. */
  async publish(schedulerName: string, operationId: string, opts?: CallOptions): Promise<number> {
    const message = JSON.stringify({ schedulerName, operationID: operationId });
    return redisCall(opts, () => this.client.publish(cancellationChannel, message));
  }

  /**
   * Calls `handler` for every request published from now until the signal aborts, on a subscriber connection of its
   * own that reconnects and resubscribes after an outage. Resolves once the subscription is active.
   */
  async subscribe(handler: CancelHandler, opts: Required<CallOptions>): Promise<void> {
    const { signal } = opts;
    const conn = await dedicatedConnection(this.client, "cancel-subscriber", { signal, reconnect: true });
    const stop = () => conn.disconnect();
    signal.addEventListener("abort", stop, { once: true });
    conn.on("message", (channel: string, message: string) => {
      if (channel !== cancellationChannel || signal.aborted) return;
      const request = parseRequest(message);
      if (request === undefined) {
        this.logger.warn({ message }, "ignoring malformed operation cancellation request");
        return;
      }
      Promise.resolve()
        .then(() => handler(request))
        .catch((err: unknown) => this.logger.error({ err, ...request }, "operation cancellation handler failed"));
    });
    try {
      await conn.subscribe(cancellationChannel);
    } catch (e) {
      signal.removeEventListener("abort", stop);
      conn.disconnect();
      if (signal.aborted) throw canceled(signal);
      throw toMaestroError(e);
    }
    if (signal.aborted) throw canceled(signal);
  }
}

function parseRequest(message: string): CancelRequest | undefined {
  let parsed: { schedulerName?: unknown; operationID?: unknown } | null;
  try {
    parsed = JSON.parse(message) as typeof parsed;
  } catch {
    return undefined;
  }
  if (typeof parsed?.schedulerName !== "string" || typeof parsed.operationID !== "string") return undefined;
  return { schedulerName: parsed.schedulerName, operationId: parsed.operationID };
}
