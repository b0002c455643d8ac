import { untilAborted } from "../delay.js";
import type { Scheduler, SchedulerFilter, SchedulerVersion } from "../entities/scheduler.js";
import type { CallOptions } from "../ports/call-options.js";
import type { Clock } from "../ports/clock.js";
import type { SchedulerChanges } from "../ports/scheduler-changes.js";
import type { SchedulerStorage } from "../ports/scheduler-storage.js";

interface WaitingRead {
  promise: Promise<string>;
  resolve(generation: string): void;
  reject(err: unknown): void;
}

/** Lists kept per distinct filter; more filters than this and the oldest goes. */
const MAX_CACHED_LISTS = 64;

/**
 * The management API's scheduler reads (get by name, list) served from memory while no scheduler changed anywhere.
 *
 * Why no read is stale: every write to scheduler storage, in any process, announces itself through SchedulerChanges
 * after it committed and before its caller gets an answer (`announcingSchedulerWrites`). Each read first asks for the
 * current generation (one Redis GET instead of a SQL query) and drops everything cached under another one; so a read
 * that starts after a write answered sees that write. A copy is kept only under the generation read before it was
 * loaded: a write landing during the load moves the generation and the copy is dropped by the next read.
 *
 * When the generation cannot be read (Redis down) the read goes to storage and the cache is emptied, so nothing
 * cached before an outage outlives it. `maxAgeMs` bounds the one case the counter cannot see: a writer that
 * committed but could not announce (it reports the failure to its caller).
 */
export class SchedulerReadCache {
  private generation: string | undefined;
  private readonly byName = new Map<string, { scheduler: Scheduler; at: number }>();
  private readonly lists = new Map<string, { schedulers: Scheduler[]; at: number }>();
  /** The generation read not sent yet, shared by the reads that start before it goes out. */
  private waiting: WaitingRead | undefined;
  /** A generation read is out: the next one waits for it. A send is due exactly while one waits and none is out. */
  private generationInFlight = false;

  constructor(
    private readonly storage: Pick<SchedulerStorage, "getScheduler" | "listSchedulers">,
    private readonly changes: SchedulerChanges,
    private readonly clock: Clock,
    private readonly maxAgeMs: number,
  ) {}

  async getScheduler(name: string, opts: CallOptions = {}): Promise<Scheduler> {
    const generation = await this.current(opts);
    const now = this.clock.now().getTime();
    const hit = this.byName.get(name);
    if (generation !== undefined && hit && now - hit.at < this.maxAgeMs) return hit.scheduler;
    const scheduler = await this.storage.getScheduler(name, opts);
    if (generation !== undefined && generation === this.generation) this.byName.set(name, { scheduler, at: now });
    return scheduler;
  }

  async listSchedulers(filter: SchedulerFilter = {}, opts: CallOptions = {}): Promise<Scheduler[]> {
    const generation = await this.current(opts);
    const key = JSON.stringify(filter);
    const now = this.clock.now().getTime();
    const hit = this.lists.get(key);
    if (generation !== undefined && hit && now - hit.at < this.maxAgeMs) return hit.schedulers;
    const schedulers = await this.storage.listSchedulers(filter, opts);
    if (generation !== undefined && generation === this.generation) {
      this.lists.delete(key);
      if (this.lists.size >= MAX_CACHED_LISTS) this.lists.delete(this.lists.keys().next().value as string);
      this.lists.set(key, { schedulers, at: now });
    }
    return schedulers;
  }

  /**
   * One generation read for all the reads waiting for one. A read waits for the next read to be sent, never for one
   * already out: that one may have reached Redis before a write answered just before this read began. The next read
   * is sent once the turn's I/O callbacks ran (setImmediate), and not before the one in flight is back, so under load
   * every read that arrives during a round trip shares the following one (one Redis command per round trip, not per
   * request).
   */
  private sharedGeneration(): Promise<string> {
    if (this.waiting !== undefined) return this.waiting.promise;
    let settle!: Pick<WaitingRead, "resolve" | "reject">;
    const promise = new Promise<string>((resolve, reject) => {
      settle = { resolve, reject };
    });
    // Each waiter handles the outcome; a read whose waiters all gave up must not become an unhandled rejection.
    promise.catch(() => undefined);
    this.waiting = { promise, ...settle };
    if (!this.generationInFlight) setImmediate(this.sendGenerationRead);
    return promise;
  }

  private readonly sendGenerationRead = () => {
    const waiting = this.waiting;
    if (waiting === undefined) return;
    this.waiting = undefined;
    this.generationInFlight = true;
    const back = () => {
      this.generationInFlight = false;
      if (this.waiting !== undefined) setImmediate(this.sendGenerationRead);
    };
    this.changes.generation().then(
      (generation) => {
        back();
        waiting.resolve(generation);
      },
      (err: unknown) => {
        back();
        waiting.reject(err);
      },
    );
  };

  /** The generation now, emptying the cache when it moved; undefined (and empty) when it cannot be read. */
  private async current(opts: CallOptions): Promise<string | undefined> {
    let generation: string | undefined;
    try {
      generation = await untilAborted(this.sharedGeneration(), opts.signal);
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      generation = undefined;
    }
    if (generation === undefined || generation !== this.generation) {
      this.byName.clear();
      this.lists.clear();
      this.generation = generation;
    }
    return generation;
  }
}

/**
 * SchedulerStorage whose every write announces itself through `changes` before it returns, so no process keeps
 * serving the scheduler it replaced. A failed write announces too (it may have committed before failing). An
 * announcement that fails after a successful write fails the call: the caller must not be told the change is visible
 * everywhere when it may not be. The announcement takes no caller signal: a caller giving up after the commit must
 * not leave the other processes unaware.
 */
export class AnnouncingSchedulerStorage implements SchedulerStorage {
  constructor(
    private readonly storage: SchedulerStorage,
    private readonly changes: SchedulerChanges,
  ) {}

  getScheduler(name: string, opts?: CallOptions): Promise<Scheduler> {
    return this.storage.getScheduler(name, opts);
  }

  getSchedulerVersion(name: string, version: string, opts?: CallOptions): Promise<Scheduler> {
    return this.storage.getSchedulerVersion(name, version, opts);
  }

  listSchedulers(filter?: SchedulerFilter, opts?: CallOptions): Promise<Scheduler[]> {
    return this.storage.listSchedulers(filter, opts);
  }

  listSchedulerNames(opts?: CallOptions): Promise<string[]> {
    return this.storage.listSchedulerNames(opts);
  }

  listVersions(name: string, opts?: CallOptions): Promise<SchedulerVersion[]> {
    return this.storage.listVersions(name, opts);
  }

  createScheduler(scheduler: Scheduler, opts?: CallOptions): Promise<void> {
    return this.announced(this.storage.createScheduler(scheduler, opts));
  }

  createSchedulerVersion(scheduler: Scheduler, opts?: CallOptions): Promise<void> {
    return this.announced(this.storage.createSchedulerVersion(scheduler, opts));
  }

  switchActiveVersion(name: string, version: string, opts?: CallOptions): Promise<void> {
    return this.announced(this.storage.switchActiveVersion(name, version, opts));
  }

  updateScheduler(scheduler: Scheduler, opts?: CallOptions): Promise<void> {
    return this.announced(this.storage.updateScheduler(scheduler, opts));
  }

  deleteScheduler(name: string, opts?: CallOptions): Promise<void> {
    return this.announced(this.storage.deleteScheduler(name, opts));
  }

  close(): Promise<void> {
    return this.storage.close();
  }

  private async announced(write: Promise<void>): Promise<void> {
    try {
      await write;
    } catch (err) {
      await this.changes.announce().catch(() => undefined);
      throw err;
    }
    await this.changes.announce();
  }
}
