import type {
  ForwardCallOptions,
  Forwarder,
  ForwarderClient,
  ForwarderContext,
  ForwarderPlugin,
} from "@maestro/server/plugin";
import { EVENT_HEADER, IDEMPOTENCY_HEADER, SIGNATURE_HEADER, sign } from "./signature.js";

export const WEBHOOK_FORWARDER_TYPE = "webhook";

export interface WebhookForwarderOptions {
  /** HMAC-SHA256 key of the signature header; without one, requests go unsigned. */
  secret?: string | undefined;
  /** Attempts per event, the first included. */
  attempts?: number;
  /** Deadline of one attempt; the forwarder's `options.timeout` bounds all attempts together. */
  attemptTimeoutMs?: number;
  /** Wait before the first retry; doubles each retry. */
  backoffMs?: number;
  fetch?: typeof fetch;
}

/** The JSON body of every request: which event, its id, and the message Maestro built. */
export interface WebhookBody {
  id: string;
  event: "roomResync" | "roomStatus" | "roomEvent" | "playerEvent";
  forwarder: string;
  sentAt: string;
  message: unknown;
}

class RetryableError extends Error {}

/**
 * Posts each event as JSON to the forwarder's address (an http(s) URL). 5xx answers, network errors and attempt
 * timeouts are retried with exponential backoff; 4xx are not (the receiver refused the event). The idempotency key is
 * the event id, the same on every retry and for every forwarder, so a receiver can drop duplicates.
 */
export function webhookForwarderPlugin(options: WebhookForwarderOptions = {}): ForwarderPlugin {
  const attempts = Math.max(1, options.attempts ?? 3);
  const attemptTimeoutMs = options.attemptTimeoutMs ?? 1000;
  const backoffMs = options.backoffMs ?? 100;
  const doFetch = options.fetch ?? fetch;

  return {
    type: WEBHOOK_FORWARDER_TYPE,
    checkAddress(address) {
      try {
        const url = new URL(address);
        if (url.protocol === "http:" || url.protocol === "https:") return undefined;
      } catch {}
      return "must be an http:// or https:// URL for a webhook forwarder";
    },
    create(forwarder: Forwarder, ctx: ForwarderContext): ForwarderClient {
      const post = async (event: WebhookBody["event"], message: unknown, opts: ForwardCallOptions) => {
        const body = JSON.stringify({
          id: opts.eventId,
          event,
          forwarder: forwarder.name,
          sentAt: new Date().toISOString(),
          message,
        } satisfies WebhookBody);
        const headers: Record<string, string> = {
          "content-type": "application/json",
          [IDEMPOTENCY_HEADER]: opts.eventId,
          [EVENT_HEADER]: event,
        };
        if (options.secret) headers[SIGNATURE_HEADER] = sign(body, options.secret);
        for (let attempt = 1; ; attempt++) {
          try {
            await send(doFetch, forwarder.address, headers, body, opts.signal, attemptTimeoutMs);
            return;
          } catch (err) {
            if (!(err instanceof RetryableError) || attempt >= attempts || opts.signal.aborted) throw err;
            ctx.logger.debug({ attempt, err: err.message }, "webhook delivery failed, retrying");
            await sleep(backoffMs * 2 ** (attempt - 1), opts.signal);
          }
        }
      };
      return {
        roomResync: (m, o) => post("roomResync", m, o),
        roomStatus: (m, o) => post("roomStatus", m, o),
        roomEvent: (m, o) => post("roomEvent", m, o),
        playerEvent: (m, o) => post("playerEvent", m, o),
      };
    },
  };
}

async function send(
  doFetch: typeof fetch,
  url: string,
  headers: Record<string, string>,
  body: string,
  signal: AbortSignal,
  attemptTimeoutMs: number,
): Promise<void> {
  const attempt = AbortSignal.timeout(attemptTimeoutMs);
  let res: Response;
  try {
    res = await doFetch(url, { method: "POST", headers, body, signal: AbortSignal.any([signal, attempt]) });
  } catch (err) {
    if (signal.aborted) throw err;
    const why = attempt.aborted ? `no answer within ${attemptTimeoutMs} ms` : (err as Error).message;
    throw new RetryableError(`POST ${url}: ${why}`);
  }
  await res.body?.cancel();
  if (res.ok) return;
  const message = `POST ${url} answered ${res.status}`;
  if (res.status >= 500) throw new RetryableError(message);
  throw new Error(message);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done() {
      signal.removeEventListener("abort", abort);
      resolve();
    }
    function abort() {
      clearTimeout(timer);
      reject(signal.reason);
    }
    signal.addEventListener("abort", abort, { once: true });
  });
}
