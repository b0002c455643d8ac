/**
 * A single-consumer async iterable fed by push(). It ends (done) when the signal aborts or the consumer stops early,
 * and calls onClose once either way so the producer can forget it.
 */
export class EventChannel<T> implements AsyncIterable<T> {
  private readonly buffer: T[] = [];
  private wake: (() => void) | undefined;
  private closed = false;
  private readonly onAbort = () => this.close();

  constructor(
    private readonly signal: AbortSignal,
    private readonly onClose: () => void,
  ) {
    // Already aborted: born closed, and onClose is not called because nobody could have registered the channel yet.
    if (signal.aborted) this.closed = true;
    else signal.addEventListener("abort", this.onAbort, { once: true });
  }

  push(value: T): void {
    if (this.closed) return;
    this.buffer.push(value);
    this.wakeUp();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.buffer.length = 0;
    this.signal.removeEventListener("abort", this.onAbort);
    this.onClose();
    this.wakeUp();
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: async () => {
        for (;;) {
          if (this.closed) return { done: true, value: undefined };
          const value = this.buffer.shift();
          if (value !== undefined) return { done: false, value };
          await new Promise<void>((resolve) => {
            this.wake = resolve;
          });
        }
      },
      return: async () => {
        this.close();
        return { done: true, value: undefined };
      },
    };
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
