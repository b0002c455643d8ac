import { MaestroRoomError } from "./errors.js";

export interface KeepAliveOptions {
  intervalMs: number;
  retryInitialDelayMs: number;
  /** Re-sends the current status. */
  send: (signal: AbortSignal) => Promise<void>;
  onFailure: (error: MaestroRoomError, consecutiveFailures: number) => void;
}

/**
 * Re-sends the room status on a jittered interval, backing off exponentially after failures.
 * Every send (its own or a caller's) re-arms the timer, so an explicit status call postpones the next keep-alive.
 */
export class KeepAlive {
  readonly #options: KeepAliveOptions;
  readonly #stopped = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #failures = 0;
  #inFlight: Promise<void> | undefined;

  constructor(options: KeepAliveOptions) {
    this.#options = options;
  }

  get consecutiveFailures(): number {
    return this.#failures;
  }

  /** A send succeeded: the next keep-alive is one (jittered) interval away. */
  succeeded(): void {
    this.#failures = 0;
    this.#arm(jitter(this.#options.intervalMs));
  }

  /** A send failed: retry sooner, doubling the delay on each consecutive failure. */
  failed(): number {
    this.#failures += 1;
    const { retryInitialDelayMs, intervalMs } = this.#options;
    const delay = Math.min(intervalMs, retryInitialDelayMs * 2 ** Math.min(this.#failures - 1, 30));
    this.#arm(jitter(delay));
    return this.#failures;
  }

  /** A caller's send failed: retry after the initial delay without growing the backoff (the caller saw the error). */
  retrySoon(): void {
    this.#arm(jitter(Math.min(this.#options.retryInitialDelayMs, this.#options.intervalMs)));
  }

  /** Stops re-arming and aborts a keep-alive send in flight. */
  stop(): Promise<void> {
    this.#stopped.abort(new MaestroRoomError("closed", "keep-alive stopped"));
    clearTimeout(this.#timer);
    this.#timer = undefined;
    return this.#inFlight ?? Promise.resolve();
  }

  #arm(delayMs: number): void {
    if (this.#stopped.signal.aborted) return;
    clearTimeout(this.#timer);
    // Unref'd: the loop must never be what keeps a game server process alive.
    this.#timer = setTimeout(() => {
      this.#inFlight = this.#fire();
    }, delayMs).unref();
  }

  async #fire(): Promise<void> {
    this.#timer = undefined;
    try {
      await this.#options.send(this.#stopped.signal);
      if (!this.#stopped.signal.aborted) this.succeeded();
    } catch (e) {
      if (this.#stopped.signal.aborted) return;
      const failures = this.failed();
      try {
        this.#options.onFailure(MaestroRoomError.from(e), failures);
      } catch {
        // A throwing error handler must not break the loop.
      }
    }
  }
}

function jitter(ms: number): number {
  return Math.max(1, Math.round(ms * (0.9 + Math.random() * 0.2)));
}
