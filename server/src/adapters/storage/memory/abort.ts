import { MaestroError } from "../../../core/errors.js";
import type { CallOptions } from "../../../core/ports/call-options.js";

/** Rejects work that was already cancelled before it started, with the error every caller expects. */
export function throwIfAborted(opts: CallOptions | undefined): void {
  const signal = opts?.signal;
  if (signal?.aborted) throw canceled(signal);
}

export function canceled(signal: AbortSignal): MaestroError {
  const reason: unknown = signal.reason;
  const message = reason instanceof Error ? reason.message : "operation was aborted";
  return new MaestroError("canceled", message, { cause: reason });
}
