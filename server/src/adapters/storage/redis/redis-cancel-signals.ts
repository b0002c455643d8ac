import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { abortableSleep } from "../../../core/delay.js";
import type { CallOptions } from "../../../core/ports/call-options.js";
import type { CancelHandler, CancelRequest, CancelSignals } from "../../../core/ports/cancel-signals.js";
import { type Logger, silentLogger } from "../../../core/ports/logger.js";
import { dedicatedConnection, isClusterClient } from "./redis-client.js";
import { canceled, redisCall, toMaestroError } from "./redis-errors.js";
import { cancelAckKey, cancellationChannel } from "./redis-keys.js";

export type { CancelHandler, CancelRequest };

/** How often a requester looks for the acknowledgement; a cancel is rare, so polling costs nothing worth a channel. */
const ACK_POLL_MS = 20;
/** How long an acknowledgement is kept for a requester that polls late. */
const ACK_TTL_MS = 60_000;

/**
 * Cross-process operation cancel requests over Maestro's PUB/SUB channel `scheduler:operation_cancellation_requests`,
 * with Maestro's message `{"schedulerName","operationID"}` plus a `requestID` when the sender waits for an answer: the
 * process that runs the operation aborts it and sets a short-lived acknowledgement key named after the request. PUB/SUB
 * delivery is fire-and-forget, as in Maestro, so a request nobody acknowledged is reported as such rather than
 * assumed delivered.
 *
 * On Redis Cluster the channel is a sharded one (SPUBLISH/SSUBSCRIBE): a plain PUBLISH there counts only the
 * subscribers of the node that received it and may reach them out of order, while a sharded channel lives on one node.
 */
export class RedisCancelSignals implements CancelSignals {
  private readonly sharded: boolean;

  constructor(
    private readonly client: Redis,
    private readonly logger: Logger = silentLogger,
  ) {
    this.sharded = isClusterClient(client);
  }

  private send(message: string): Promise<number> {
    return this.sharded
      ? (this.client.spublish(cancellationChannel, message) as Promise<number>)
      : this.client.publish(cancellationChannel, message);
  }

  /** Announces a cancel request to every subscribed process; resolves with how many received it. */
  async publish(schedulerName: string, operationId: string, opts?: CallOptions): Promise<number> {
    const message = JSON.stringify({ schedulerName, operationID: operationId });
    return redisCall(opts, () => this.send(message));
  }

  async request(schedulerName: string, operationId: string, opts: CallOptions & { waitMs: number }): Promise<boolean> {
    const requestId = randomUUID();
    const message = JSON.stringify({ schedulerName, operationID: operationId, requestID: requestId });
    const receivers = await redisCall(opts, () => this.send(message));
    if (receivers === 0) return false;
    const key = cancelAckKey(schedulerName, requestId);
    const deadline = Date.now() + opts.waitMs;
    for (;;) {
      if ((await redisCall(opts, () => this.client.del(key))) === 1) return true;
      if (Date.now() >= deadline) return false;
      await abortableSleep(ACK_POLL_MS, opts.signal);
    }
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
    conn.on(this.sharded ? "smessage" : "message", (channel: string, message: string) => {
      if (channel !== cancellationChannel || signal.aborted) return;
      const request = parseRequest(message);
      if (request === undefined) {
        this.logger.warn({ message }, "ignoring malformed operation cancellation request");
        return;
      }
      Promise.resolve()
        .then(() => handler({ schedulerName: request.schedulerName, operationId: request.operationId }))
        .then(async (acknowledged) => {
          if (acknowledged !== true || request.requestId === undefined) return;
          const key = cancelAckKey(request.schedulerName, request.requestId);
          await this.client.set(key, "1", "PX", ACK_TTL_MS);
        })
        .catch((err: unknown) => this.logger.error({ err, ...request }, "operation cancellation handler failed"));
    });
    try {
      if (this.sharded) await conn.ssubscribe(cancellationChannel);
      else await conn.subscribe(cancellationChannel);
    } catch (e) {
      signal.removeEventListener("abort", stop);
      conn.disconnect();
      if (signal.aborted) throw canceled(signal);
      throw toMaestroError(e);
    }
    if (signal.aborted) throw canceled(signal);
  }
}

function parseRequest(message: string): (CancelRequest & { requestId?: string }) | undefined {
  let parsed: { schedulerName?: unknown; operationID?: unknown; requestID?: unknown } | null;
  try {
    parsed = JSON.parse(message) as typeof parsed;
  } catch {
    return undefined;
  }
  if (typeof parsed?.schedulerName !== "string" || typeof parsed.operationID !== "string") return undefined;
  const request = { schedulerName: parsed.schedulerName, operationId: parsed.operationID };
  return typeof parsed.requestID === "string" ? { ...request, requestId: parsed.requestID } : request;
}
