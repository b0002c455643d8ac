import { delay } from "../core/delay.js";
import type { Logger } from "../core/ports/logger.js";
import type { SchedulerStorage } from "../core/ports/scheduler-storage.js";
import type { LocalEvents } from "../wiring/maestro-context.js";

export type SchedulerTask = (schedulerName: string, signal: AbortSignal) => Promise<void>;

const RESTART_DELAY_MS = 1_000;

/**
 * Runs one task per scheduler (Maestro's WorkersManager): starts tasks for new schedulers and stops those of deleted
 * ones on every sync, and restarts a task that ends or fails on its own.
 */
export class PerSchedulerSupervisor {
  private readonly tasks = new Map<string, { abort: AbortController; done: Promise<void> }>();
  private timer?: NodeJS.Timeout;
  private syncing?: Promise<void>;
  private resync = false;
  private stopped = false;
  private readonly onChange = () => void this.sync();

  constructor(
    private readonly opts: {
      name: string;
      schedulers: SchedulerStorage;
      syncIntervalMs: number;
      events: LocalEvents;
      logger: Logger;
      task: SchedulerTask;
    },
  ) {}

  async start(): Promise<void> {
    await this.sync();
    this.timer = setInterval(this.onChange, this.opts.syncIntervalMs);
    this.opts.events.on("schedulers-changed", this.onChange);
  }

  /** Coalesces overlapping requests: at most one sync runs, and one more follows if asked meanwhile. */
  sync(): Promise<void> {
    if (this.syncing) {
      this.resync = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      do {
        this.resync = false;
        await this.syncOnce().catch((err) => this.opts.logger.error({ err }, `${this.opts.name}: sync failed`));
      } while (this.resync && !this.stopped);
    })().finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  get running(): string[] {
    return [...this.tasks.keys()];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.opts.events.off("schedulers-changed", this.onChange);
    await this.syncing;
    const all = [...this.tasks.values()];
    for (const t of all) t.abort.abort();
    await Promise.allSettled(all.map((t) => t.done));
    this.tasks.clear();
  }

  private async syncOnce(): Promise<void> {
    if (this.stopped) return;
    const names = new Set(await this.opts.schedulers.listSchedulerNames());
    for (const name of names) if (!this.tasks.has(name)) this.launch(name);
    for (const [name, t] of this.tasks) {
      if (!names.has(name)) {
        t.abort.abort();
        this.tasks.delete(name);
      }
    }
  }

  private launch(name: string): void {
    const abort = new AbortController();
    const log = this.opts.logger.child({ scheduler: name, component: this.opts.name });
    const done = (async () => {
      while (!abort.signal.aborted) {
        try {
          await this.opts.task(name, abort.signal);
        } catch (err) {
          if (abort.signal.aborted) break;
          log.error({ err }, "scheduler task failed; restarting");
        }
        if (!abort.signal.aborted) await delay(RESTART_DELAY_MS, abort.signal);
      }
    })();
    this.tasks.set(name, { abort, done });
  }
}
