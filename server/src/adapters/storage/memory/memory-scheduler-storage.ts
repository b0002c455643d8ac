import type { Scheduler, SchedulerFilter, SchedulerState, SchedulerVersion } from "../../../core/entities/scheduler.js";
import { MaestroError } from "../../../core/errors.js";
import type { CallOptions } from "../../../core/ports/call-options.js";
import type { SchedulerStorage } from "../../../core/ports/scheduler-storage.js";
import { throwIfAborted } from "./abort.js";

interface StoredScheduler {
  game: string;
  activeVersion: string;
  // State and lastDownscaleAt describe the scheduler, not one version: switching versions must not reset them.
  state: SchedulerState;
  lastDownscaleAt: Date | undefined;
  versions: Map<string, StoredVersion>;
}

interface StoredVersion {
  scheduler: Scheduler;
  /** Insertion order, so versions created within the same millisecond still list newest first. */
  seq: number;
}

/**
 * SchedulerStorage in process memory (unit tests, embedded runs without persistence). Mirrors SqlSchedulerStorage:
 * state and lastDownscaleAt are scheduler-wide, a version keeps its createdAt forever.
 */
export class MemorySchedulerStorage implements SchedulerStorage {
  private readonly schedulers = new Map<string, StoredScheduler>();
  private seq = 0;

  async getScheduler(name: string, opts?: CallOptions): Promise<Scheduler> {
    throwIfAborted(opts);
    const stored = this.require(name);
    return this.view(stored, this.requireVersion(name, stored, stored.activeVersion));
  }

  async getSchedulerVersion(name: string, version: string, opts?: CallOptions): Promise<Scheduler> {
    throwIfAborted(opts);
    const stored = this.require(name);
    return this.view(stored, this.requireVersion(name, stored, version));
  }

  async listSchedulers(filter: SchedulerFilter = {}, opts?: CallOptions): Promise<Scheduler[]> {
    throwIfAborted(opts);
    const result: Scheduler[] = [];
    for (const name of this.sortedNames()) {
      const stored = this.schedulers.get(name)!;
      if (filter.name !== undefined && filter.name !== name) continue;
      if (filter.game !== undefined && filter.game !== stored.game) continue;
      if (filter.version !== undefined && filter.version !== stored.activeVersion) continue;
      result.push(this.view(stored, this.requireVersion(name, stored, stored.activeVersion)));
    }
    return result;
  }

  async listSchedulerNames(opts?: CallOptions): Promise<string[]> {
    throwIfAborted(opts);
    return this.sortedNames();
  }

  async createScheduler(scheduler: Scheduler, opts?: CallOptions): Promise<void> {
    throwIfAborted(opts);
    if (this.schedulers.has(scheduler.name)) {
      throw new MaestroError("already_exists", `scheduler ${scheduler.name} already exists`);
    }
    const version = scheduler.spec.version;
    this.schedulers.set(scheduler.name, {
      game: scheduler.game,
      activeVersion: version,
      state: scheduler.state,
      lastDownscaleAt: copyDate(scheduler.lastDownscaleAt),
      versions: new Map([[version, { scheduler: structuredClone(scheduler), seq: this.seq++ }]]),
    });
  }

  async createSchedulerVersion(scheduler: Scheduler, opts?: CallOptions): Promise<void> {
    throwIfAborted(opts);
    const stored = this.require(scheduler.name);
    const version = scheduler.spec.version;
    if (stored.versions.has(version)) {
      throw new MaestroError("already_exists", `scheduler ${scheduler.name} version ${version} already exists`);
    }
    stored.versions.set(version, { scheduler: structuredClone(scheduler), seq: this.seq++ });
  }

  async switchActiveVersion(name: string, version: string, opts?: CallOptions): Promise<void> {
    throwIfAborted(opts);
    const stored = this.require(name);
    this.requireVersion(name, stored, version);
    stored.activeVersion = version;
  }

  async updateScheduler(scheduler: Scheduler, opts?: CallOptions): Promise<void> {
    throwIfAborted(opts);
    const stored = this.require(scheduler.name);
    const current = this.requireVersion(scheduler.name, stored, scheduler.spec.version);
    // A version's creation time is part of its identity (it orders listVersions), so an update keeps it.
    current.scheduler = { ...structuredClone(scheduler), createdAt: current.scheduler.createdAt };
    stored.game = scheduler.game;
    stored.state = scheduler.state;
    stored.lastDownscaleAt = copyDate(scheduler.lastDownscaleAt);
  }

  async listVersions(name: string, opts?: CallOptions): Promise<SchedulerVersion[]> {
    throwIfAborted(opts);
    const stored = this.require(name);
    return [...stored.versions.entries()]
      .sort(([, a], [, b]) => b.scheduler.createdAt.getTime() - a.scheduler.createdAt.getTime() || b.seq - a.seq)
      .map(([version, v]) => ({
        version,
        isActive: version === stored.activeVersion,
        createdAt: new Date(v.scheduler.createdAt),
      }));
  }

  async deleteScheduler(name: string, opts?: CallOptions): Promise<void> {
    throwIfAborted(opts);
    if (!this.schedulers.delete(name)) throw MaestroError.notFound(`scheduler ${name}`);
  }

  async close(): Promise<void> {}

  private require(name: string): StoredScheduler {
    const stored = this.schedulers.get(name);
    if (stored === undefined) throw MaestroError.notFound(`scheduler ${name}`);
    return stored;
  }

  private requireVersion(name: string, stored: StoredScheduler, version: string): StoredVersion {
    const found = stored.versions.get(version);
    if (found === undefined) throw MaestroError.notFound(`scheduler ${name} version ${version}`);
    return found;
  }

  private view(stored: StoredScheduler, version: StoredVersion): Scheduler {
    return {
      ...structuredClone(version.scheduler),
      game: stored.game,
      state: stored.state,
      lastDownscaleAt: copyDate(stored.lastDownscaleAt),
    };
  }

  private sortedNames(): string[] {
    // Code-unit order, the same as the SQL adapter's `collate "C"`.
    return [...this.schedulers.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }
}

function copyDate(date: Date | undefined): Date | undefined {
  return date === undefined ? undefined : new Date(date);
}
