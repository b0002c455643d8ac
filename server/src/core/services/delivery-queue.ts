/**
 * Runs at most `concurrency` deliveries to one forwarder at a time and lets at most `capacity` more wait. A slow or
 * dead forwarder fills its own queue and then sheds, so it can hold neither memory nor the callers that enqueue.
 */
export class DeliveryQueue {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly concurrency: number,
    private readonly capacity: number,
  ) {}

  /** Deliveries running or waiting. */
  get size(): number {
    return this.running + this.waiting.length;
  }

  /** Runs `task` when a slot is free; resolves `shed` at once, without running it, when the queue is full. */
  async run<T>(task: () => Promise<T>): Promise<{ shed: true } | { shed: false; value: T }> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.capacity) return { shed: true };
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return { shed: false, value: await task() };
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so `running` only drops when nobody waits.
      if (next) next();
      else this.running--;
    }
  }
}
