import { MaestroError } from "../../../core/errors.js";
import type { CallOptions } from "../../../core/ports/call-options.js";
import { unavailableErrnos } from "../network-errors.js";

// ioredis reports a lost or absent connection with plain Errors; these are its messages.
const unavailableMessages = [
  /connection is closed/i,
  /stream isn't writeable/i,
  /command timed out/i,
  /socket timeout/i,
  /connect ETIMEDOUT/i,
  /max retries per request/i,
  /redis is already connecting/i,
];

// Server replies that mean "not serving right now" rather than "your request is wrong".
const unavailableReplies = /^(LOADING|BUSY|MASTERDOWN|READONLY|TRYAGAIN|CLUSTERDOWN|NOREPLICAS)\b/;

/** Maps anything ioredis throws to MaestroError: lost or absent connection → unavailable, OOM → resource_exhausted. */
export function toMaestroError(reason: unknown): MaestroError {
  if (reason instanceof MaestroError) return reason;
  const message = reason instanceof Error ? reason.message : String(reason);
  if (isConnectionFailure(reason)) {
    return new MaestroError("unavailable", `redis unavailable: ${message}`, { cause: reason });
  }
  if (reason instanceof Error && reason.name === "ReplyError") {
    if (unavailableReplies.test(message)) return new MaestroError("unavailable", message, { cause: reason });
    if (message.startsWith("OOM")) return new MaestroError("resource_exhausted", message, { cause: reason });
  }
  return MaestroError.from(reason);
}

function isConnectionFailure(reason: unknown): boolean {
  if (reason instanceof Error && reason.name === "MaxRetriesPerRequestError") return true;
  const errno = (reason as { code?: unknown } | null)?.code;
  if (typeof errno === "string" && unavailableErrnos.has(errno)) return true;
  if (reason instanceof AggregateError && reason.errors.some(isConnectionFailure)) return true;
  const message = reason instanceof Error ? reason.message : "";
  return unavailableMessages.some((pattern) => pattern.test(message));
}

export function canceled(signal: AbortSignal): MaestroError {
  const reason: unknown = signal.reason;
  const message = reason instanceof Error ? reason.message : "operation was aborted";
  return new MaestroError("canceled", message, { cause: reason });
}

export function throwIfAborted(opts: CallOptions | undefined): void {
  const signal = opts?.signal;
  if (signal?.aborted) throw canceled(signal);
}

/**
 * Runs one Redis round trip under the caller's signal: rejected as canceled before it starts or as soon as the signal
 * aborts (the command itself may still complete on the server), and with every other failure mapped to MaestroError.
 */
export async function redisCall<T>(opts: CallOptions | undefined, work: () => Promise<T>): Promise<T> {
  throwIfAborted(opts);
  const signal = opts?.signal;
  try {
    if (signal === undefined) return await work();
    return await raceAbort(work(), signal);
  } catch (e) {
    throw toMaestroError(e);
  }
}

/**
 * The calls in flight under one signal, woken by a single abort listener rather than one per call: a request fanning
 * out to many calls (scheduler info over every scheduler) would pass Node's limit of 10 listeners and warn, and each
 * listener added to or removed from an AbortSignal costs a few µs. The listener goes with the last call so that timeout
 * and AbortSignal.any signals, which Node keeps alive while they have one, are held no longer than before.
 */
class CallsUnderSignal {
  readonly aborts = new Set<() => void>();

  constructor(private readonly signal: AbortSignal) {
    signal.addEventListener("abort", this.onAbort, { once: true });
  }

  private readonly onAbort = () => {
    inFlight.delete(this.signal);
    for (const abort of this.aborts) abort();
  };

  remove(abort: () => void): void {
    this.aborts.delete(abort);
    if (this.aborts.size === 0 && inFlight.get(this.signal) === this) {
      inFlight.delete(this.signal);
      this.signal.removeEventListener("abort", this.onAbort);
    }
  }
}

const inFlight = new WeakMap<AbortSignal, CallsUnderSignal>();

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(canceled(signal));
    let calls = inFlight.get(signal);
    if (calls === undefined) {
      calls = new CallsUnderSignal(signal);
      inFlight.set(signal, calls);
    }
    const under = calls;
    under.aborts.add(onAbort);
    promise.then(
      (value) => {
        under.remove(onAbort);
        resolve(value);
      },
      (error: unknown) => {
        under.remove(onAbort);
        reject(error);
      },
    );
  });
}
