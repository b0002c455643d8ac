import type { InstanceEvent } from "../../../core/entities/game-room.js";

interface Subscriber {
  push(event: InstanceEvent): void;
  end(): void;
}

/** Fans instance events out to every watcher of a scheduler; each watcher has its own unbounded queue. */
export class InstanceEventHub {
  private readonly subscribers = new Map<string, Set<Subscriber>>();
  private closed = false;

  emit(schedulerName: string, event: InstanceEvent): void {
    for (const subscriber of this.subscribers.get(schedulerName) ?? []) subscriber.push(event);
  }

  /**
   * Starts delivering at once, so that nothing emitted after `initial` was taken is missed even if the caller only
   * begins iterating later. The iterator ends (without throwing) when the signal aborts or the hub closes.
   */
  subscribe(schedulerName: string, initial: InstanceEvent[], signal: AbortSignal): AsyncIterable<InstanceEvent> {
    const queue = [...initial];
    let done = false;
    let wake: (() => void) | undefined;
    const set = this.subscribers.get(schedulerName) ?? new Set<Subscriber>();
    const stop = () => {
      done = true;
      queue.length = 0;
      set.delete(subscriber);
      if (set.size === 0 && this.subscribers.get(schedulerName) === set) this.subscribers.delete(schedulerName);
      signal.removeEventListener("abort", stop);
      wake?.();
    };
    const subscriber: Subscriber = {
      push(event) {
        queue.push(event);
        wake?.();
      },
      end: stop,
    };
    if (signal.aborted || this.closed) {
      done = true;
    } else {
      set.add(subscriber);
      this.subscribers.set(schedulerName, set);
      signal.addEventListener("abort", stop, { once: true });
    }
    const iterator: AsyncIterator<InstanceEvent> = {
      async next() {
        for (;;) {
          if (done) return { done: true, value: undefined };
          const event = queue.shift();
          if (event) return { done: false, value: event };
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = undefined;
        }
      },
      async return() {
        stop();
        return { done: true, value: undefined };
      },
    };
    return { [Symbol.asyncIterator]: () => iterator };
  }

  /** Ends every watcher, present and future. */
  close(): void {
    this.closed = true;
    for (const set of [...this.subscribers.values()]) for (const subscriber of [...set]) subscriber.end();
  }
}
