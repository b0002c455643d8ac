import type { Operation } from "../entities/operation.js";
import type { SchedulerVersion } from "../entities/scheduler.js";
import {
  DEFAULT_SPEC_VERSION,
  type Scheduler,
  type SchedulerFilter,
  type SchedulerInfo,
} from "../entities/scheduler.js";
import { assertValidScheduler } from "../entities/scheduler-validation.js";
import { MaestroError } from "../errors.js";
import { ADD_ROOMS } from "../operations/add-rooms/add-rooms.js";
import { CREATE_SCHEDULER } from "../operations/create-scheduler/create-scheduler.js";
import { DELETE_SCHEDULER } from "../operations/delete-scheduler/delete-scheduler.js";
import { REMOVE_ROOMS } from "../operations/remove-rooms/remove-rooms.js";
import type { CallOptions } from "../ports/call-options.js";
import type { Clock } from "../ports/clock.js";
import type { RoomStorage } from "../ports/room-storage.js";
import type { SchedulerStorage } from "../ports/scheduler-storage.js";
import type { OperationManager } from "./operation-manager.js";

export interface SchedulerManagerDeps {
  schedulers: SchedulerStorage;
  rooms: RoomStorage;
  operations: OperationManager;
  clock: Clock;
}

/** The management API's use cases for schedulers. Changes are never made here directly: they are enqueued. */
export class SchedulerManager {
  constructor(private readonly deps: SchedulerManagerDeps) {}

  /** Stores the scheduler (state `creating`, version v1.0.0) and enqueues create_scheduler. */
  async createScheduler(input: Scheduler, opts: CallOptions = {}): Promise<Scheduler> {
    const scheduler: Scheduler = {
      ...input,
      state: "creating",
      spec: { ...input.spec, version: DEFAULT_SPEC_VERSION },
      createdAt: this.deps.clock.now(),
      rollbackVersion: undefined,
      lastDownscaleAt: undefined,
    };
    assertValidScheduler(scheduler);
    await this.deps.schedulers.createScheduler(scheduler, opts);
    await this.deps.operations.enqueue(scheduler.name, CREATE_SCHEDULER, {}, opts);
    return scheduler;
  }

  getScheduler(name: string, version?: string, opts: CallOptions = {}): Promise<Scheduler> {
    return version
      ? this.deps.schedulers.getSchedulerVersion(name, version, opts)
      : this.deps.schedulers.getScheduler(name, opts);
  }

  listSchedulers(filter: SchedulerFilter = {}, opts: CallOptions = {}): Promise<Scheduler[]> {
    return this.deps.schedulers.listSchedulers(filter, opts);
  }

  listVersions(name: string, opts: CallOptions = {}): Promise<SchedulerVersion[]> {
    return this.deps.schedulers.listVersions(name, opts);
  }

  async getSchedulersInfo(game: string | undefined, opts: CallOptions = {}): Promise<SchedulerInfo[]> {
    const schedulers = await this.deps.schedulers.listSchedulers(game ? { game } : {}, opts);
    return Promise.all(
      schedulers.map(async (s): Promise<SchedulerInfo> => {
        const counts = await this.deps.rooms.countByStatus(s.name, opts);
        return {
          name: s.name,
          game: s.game,
          state: s.state,
          roomsReplicas: s.roomsReplicas,
          roomsReady: counts.ready,
          roomsOccupied: counts.occupied,
          roomsPending: counts.pending,
          roomsTerminating: counts.terminating,
          autoscaling: s.autoscaling && {
            enabled: s.autoscaling.enabled,
            min: s.autoscaling.min,
            max: s.autoscaling.max,
            cooldown: s.autoscaling.cooldown,
          },
          matchAllocation: s.matchAllocation,
        };
      }),
    );
  }

  async deleteScheduler(name: string, opts: CallOptions = {}): Promise<Operation> {
    await this.deps.schedulers.getScheduler(name, opts);
    return this.deps.operations.enqueue(name, DELETE_SCHEDULER, {}, opts);
  }

  /**
   * Grows the fleet by `amount` rooms for good: the operation raises roomsReplicas (so the health controller keeps
   * them) and creates the rooms at once. Done inside the scheduler's queue so it cannot race other changes.
   */
  async addRooms(name: string, amount: number, opts: CallOptions = {}): Promise<Operation> {
    await this.scalable(name, amount, opts);
    return this.deps.operations.enqueue(name, ADD_ROOMS, { amount, adjustReplicas: true }, opts);
  }

  /** Shrinks the fleet by `amount` rooms, removing the least useful rooms first. */
  async removeRooms(name: string, amount: number, opts: CallOptions = {}): Promise<Operation> {
    const scheduler = await this.scalable(name, amount, opts);
    if (amount > scheduler.roomsReplicas) {
      throw MaestroError.invalid([
        { field: "amount", message: `must be at most roomsReplicas (${scheduler.roomsReplicas})` },
      ]);
    }
    return this.deps.operations.enqueue(
      name,
      REMOVE_ROOMS,
      { amount, reason: "scale_down", adjustReplicas: true },
      opts,
    );
  }

  private async scalable(name: string, amount: number, opts: CallOptions): Promise<Scheduler> {
    requireAmount(amount);
    const scheduler = await this.deps.schedulers.getScheduler(name, opts);
    if (scheduler.autoscaling?.enabled) {
      throw new MaestroError(
        "failed_precondition",
        `scheduler ${name} is autoscaled: change autoscaling.min/max instead of adding or removing rooms`,
      );
    }
    return scheduler;
  }
}

function requireAmount(amount: number): number {
  if (!Number.isInteger(amount) || amount < 1) {
    throw MaestroError.invalid([{ field: "amount", message: "must be an integer of at least 1" }]);
  }
  return amount;
}
