import type { CallOptions } from "./call-options.js";

export interface CancelRequest {
  schedulerName: string;
  operationId: string;
}

/**
 * Carries "cancel this running operation" to whichever process runs it. Fire-and-forget: a process not subscribed at
 * publish time never sees the request (the pending case needs no signal: the status is written directly).
 */
export interface CancelSignals {
  /** Resolves with how many subscribers received it (when the adapter can tell). */
  publish(schedulerName: string, operationId: string, opts?: CallOptions): Promise<number>;
  /** Calls `handler` for every request published until the signal aborts; resolves once subscribed. */
  subscribe(handler: (request: CancelRequest) => void | Promise<void>, opts: Required<CallOptions>): Promise<void>;
}
