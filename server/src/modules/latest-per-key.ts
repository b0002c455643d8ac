/**
 * Runs a handler over keyed items, one at a time per key and up to `limit` keys at once; an item arriving while its key
 * is busy waits, and replaces any item of that key already waiting (only the latest state of a key matters).
 * `push` resolves once there is room for another key, so a fast producer is slowed to the handler's pace.
 */
export class LatestPerKey<T> {
  private readonly busy = new Set<string>();
  private readonly waiting = new Map<string, T>();
  private room?: { promise: Promise<void>; resolve: () => void };
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly limit: number,
    private readonly handler: (key: string, item: T) => Promise<void>,
  ) {}

  async push(key: string, item: T): Promise<void> {
    if (this.busy.has(key)) {
      this.waiting.set(key, item);
      return;
    }
    while (this.busy.size >= this.limit) {
      if (!this.room) {
        let resolve = () => {};
        const promise = new Promise<void>((r) => {
          resolve = r;
        });
        this.room = { promise, resolve };
      }
      await this.room.promise;
      if (this.busy.has(key)) {
        this.waiting.set(key, item);
        return;
      }
    }
    this.run(key, item);
  }

  /** Resolves once nothing runs and nothing waits. */
  idle(): Promise<void> {
    if (this.busy.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private run(key: string, item: T): void {
    this.busy.add(key);
    void this.handler(key, item)
      .catch(() => undefined)
      .then(() => {
        const next = this.waiting.get(key);
        if (next !== undefined) {
          this.waiting.delete(key);
          this.run(key, next);
          return;
        }
        this.busy.delete(key);
        const room = this.room;
        this.room = undefined;
        room?.resolve();
        if (this.busy.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
      });
  }
}
