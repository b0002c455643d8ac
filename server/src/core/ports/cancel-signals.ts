import type { CallOptions } from "./call-options.js";

export interface CancelRequest {
  schedulerName: string;
  operationId: string;
}

/**
 * Returns (or resolves to) true when this process runs the operation and has aborted it: the request is then
 * acknowledged to the process that asked. Anything else means "not mine".
 */
export type CancelHandler = (request: CancelRequest) => unknown;

/**
 * Carries "cancel this running operation" to whichever process runs it, and that process's acknowledgement back.
 * Delivery itself is fire-and-forget (a process not subscribed at publish time never sees the request), which is why
 * a cancel only counts once acknowledged.
 */
export interface CancelSignals {
  /** Announces a request without waiting for an answer; resolves with how many subscribers received it. */
  publish(schedulerName: string, operationId: string, opts?: CallOptions): Promise<number>;
  /**
   * Announces a request and waits up to `waitMs` for the process running the operation to acknowledge it. True when
   * it did; false when nobody was listening, nobody runs it, or the answer did not come in time.
   */
  request(schedulerName: string, operationId: string, opts: CallOptions & { waitMs: number }): Promise<boolean>;
  /** Calls `handler` for every request published until the signal aborts; resolves once subscribed. */
  subscribe(handler: CancelHandler, opts: Required<CallOptions>): Promise<void>;
}
