/**
 * Client-side request rate limit (client-go's QPS and burst): up to `burst` requests at once, then `qps` per second.
 * Waiters are served in arrival order.
 */
export class TokenBucket {
  private tokens: number;
  private last = Date.now();
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly qps: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  take(signal?: AbortSignal): Promise<void> {
    const turn = this.tail.then(() => this.wait(signal));
    // A canceled waiter must not block the ones behind it.
    this.tail = turn.catch(() => undefined);
    return turn;
  }

  private async wait(signal: AbortSignal | undefined): Promise<void> {
    if (this.qps <= 0) return;
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      const now = Date.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
      this.last = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      const ms = Math.ceil(((1 - this.tokens) / this.qps) * 1000);
      await new Promise((resolve) => setTimeout(resolve, ms));
    }
  }
}
