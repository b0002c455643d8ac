import type { Scheduler } from "../entities/scheduler.js";
import type { CallOptions } from "../ports/call-options.js";
import type { Clock } from "../ports/clock.js";
import type { SchedulerStorage } from "../ports/scheduler-storage.js";

/**
 * Keeps recently read schedulers for `ttlMs` (Maestro's scheduler cache): the ping path reads the scheduler on every
 * ping, and must neither hammer the database nor stop when it is briefly unreachable — a stale entry is served while
 * a refresh fails.
 */
export class SchedulerCache {
  private readonly entries = new Map<string, { scheduler: Scheduler; loadedAt: number }>();

  constructor(
    private readonly storage: Pick<SchedulerStorage, "getScheduler">,
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {}

  async getScheduler(name: string, opts: CallOptions = {}): Promise<Scheduler> {
    const entry = this.entries.get(name);
    const now = this.clock.now().getTime();
    if (entry && now - entry.loadedAt < this.ttlMs) return entry.scheduler;
    try {
      const scheduler = await this.storage.getScheduler(name, opts);
      this.entries.set(name, { scheduler, loadedAt: now });
      return scheduler;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === "not_found") this.entries.delete(name);
      else if (entry && code === "unavailable") return entry.scheduler;
      throw err;
    }
  }

  invalidate(name: string): void {
    this.entries.delete(name);
  }
}
