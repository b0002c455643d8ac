import type { Operation } from "../entities/operation.js";
import type { SchedulerVersion } from "../entities/scheduler.js";
import {
  DEFAULT_SPEC_VERSION,
  type Scheduler,
  type SchedulerFilter,
  type SchedulerInfo,
} from "../entities/scheduler.js";
import { defaultSchedulerLimits } from "../entities/scheduler-limits.js";
import { applySchedulerPatch, type SchedulerPatch } from "../entities/scheduler-patch.js";
import {
  assertValidScheduler,
  builtinSchedulerTypes,
  type SchedulerTypes,
  validateScheduler,
} from "../entities/scheduler-validation.js";
import { deepEqual, isSameDefinition } from "../entities/scheduler-versioning.js";
import { MaestroError } from "../errors.js";
import { ADD_ROOMS } from "../operations/add-rooms/add-rooms.js";
import { CREATE_NEW_SCHEDULER_VERSION } from "../operations/create-new-scheduler-version/create-new-scheduler-version.js";
import { schedulerToJson } from "../operations/create-new-scheduler-version/scheduler-input.js";
import { CREATE_SCHEDULER } from "../operations/create-scheduler/create-scheduler.js";
import { DELETE_SCHEDULER } from "../operations/delete-scheduler/delete-scheduler.js";
import { REMOVE_ROOMS } from "../operations/remove-rooms/remove-rooms.js";
import { SWITCH_ACTIVE_VERSION } from "../operations/switch-active-version/switch-active-version.js";
import type { CallOptions } from "../ports/call-options.js";
import type { Clock } from "../ports/clock.js";
import type { RoomStorage } from "../ports/room-storage.js";
import type { SchedulerStorage } from "../ports/scheduler-storage.js";
import type { OperationManager } from "./operation-manager.js";
import { createSchedulerOperationId } from "./scheduler-creation.js";

/** Operations that change which version is active; only one such change may be queued or running at a time. */
const versionOperations: readonly string[] = [CREATE_NEW_SCHEDULER_VERSION, SWITCH_ACTIVE_VERSION];

export interface SchedulerManagerDeps {
  schedulers: SchedulerStorage;
  /**
   * Where the API's plain reads (active scheduler by name, lists) come from: a cache that no write anywhere leaves
   * stale (SchedulerReadCache); `schedulers` when omitted. Writes and their checks always read `schedulers`.
   */
  reads?: Pick<SchedulerStorage, "getScheduler" | "listSchedulers"> | undefined;
  rooms: RoomStorage;
  operations: OperationManager;
  clock: Clock;
  /** Forwarder and policy types schedulers may name (plugins add theirs); built-in ones when omitted. */
  types?: SchedulerTypes | undefined;
}

/** The management API's use cases for schedulers. Changes are never made here directly: they are enqueued. */
export class SchedulerManager {
  constructor(private readonly deps: SchedulerManagerDeps) {}

  private get types(): SchedulerTypes {
    return this.deps.types ?? builtinSchedulerTypes;
  }

  /**
   * Stores the scheduler (state `creating`, version v1.0.0) and enqueues create_scheduler under an id derived from the
   * stored scheduler (createSchedulerOperationId). The two writes go to different stores: if the enqueue fails the
   * scheduler is removed again; if this process dies in between, the scheduler's owner completes the enqueue
   * (completeSchedulerCreation). Either way a scheduler never stays without its create operation.
   */
  async createScheduler(input: Scheduler, opts: CallOptions = {}): Promise<Scheduler> {
    const scheduler: Scheduler = {
      ...input,
      state: "creating",
      spec: { ...input.spec, version: DEFAULT_SPEC_VERSION },
      createdAt: this.deps.clock.now(),
      rollbackVersion: undefined,
      lastDownscaleAt: undefined,
    };
    assertValidScheduler(scheduler, this.types);
    await this.deps.schedulers.createScheduler(scheduler, opts);
    try {
      await this.deps.operations.enqueueIdempotent(
        scheduler.name,
        CREATE_SCHEDULER,
        {},
        {
          ...opts,
          id: createSchedulerOperationId(scheduler),
          createdAt: scheduler.createdAt,
        },
      );
    } catch (err) {
      // Not queued: take the scheduler back so the caller's error means "nothing was created". Should that fail too,
      // the owner's reconciliation queues the operation instead.
      await this.deps.schedulers.deleteScheduler(scheduler.name).catch(() => undefined);
      throw err;
    }
    return scheduler;
  }

  getScheduler(name: string, version?: string, opts: CallOptions = {}): Promise<Scheduler> {
    return version
      ? this.deps.schedulers.getSchedulerVersion(name, version, opts)
      : (this.deps.reads ?? this.deps.schedulers).getScheduler(name, opts);
  }

  listSchedulers(filter: SchedulerFilter = {}, opts: CallOptions = {}): Promise<Scheduler[]> {
    return (this.deps.reads ?? this.deps.schedulers).listSchedulers(filter, opts);
  }

  listVersions(name: string, opts: CallOptions = {}): Promise<SchedulerVersion[]> {
    return this.deps.schedulers.listVersions(name, opts);
  }

  async getSchedulersInfo(game: string | undefined, opts: CallOptions = {}): Promise<SchedulerInfo[]> {
    const schedulers = await this.deps.schedulers.listSchedulers(game ? { game } : {}, opts);
    // One round trip for every scheduler's counts rather than one call each on the request's signal.
    const allCounts = await this.deps.rooms.countByStatusOf(
      schedulers.map((s) => s.name),
      opts,
    );
    return schedulers.map((s, i): SchedulerInfo => {
      const counts = allCounts[i]!;
      return {
        name: s.name,
        game: s.game,
        state: s.state,
        roomsReplicas: s.roomsReplicas,
        roomsReady: counts.ready,
        roomsOccupied: counts.occupied,
        roomsPending: counts.pending,
        roomsTerminating: counts.terminating,
        roomsError: counts.error,
        roomsUnready: counts.unready,
        roomsAllocated: counts.allocated,
        roomsActive: counts.active,
        autoscaling: s.autoscaling && {
          enabled: s.autoscaling.enabled,
          min: s.autoscaling.min,
          max: s.autoscaling.max,
          cooldown: s.autoscaling.cooldown,
        },
        matchAllocation: s.matchAllocation,
        roomsCrashing: s.roomsCrashing,
      };
    });
  }

  /**
   * Enqueues create_new_scheduler_version with a whole new definition. The version number is Maestro's to choose, so
   * the client's spec.version is ignored; the operation decides major or minor and numbers the version.
   */
  async newSchedulerVersion(input: Scheduler, opts: CallOptions = {}): Promise<Operation> {
    const current = await this.deps.schedulers.getScheduler(input.name, opts);
    const candidate = this.candidate(current, input);
    const violations = validateScheduler(candidate, this.types);
    if (typeof input.game === "string" && input.game.trim() !== "" && input.game !== current.game) {
      violations.push({ field: "game", message: `must be the scheduler's game (${current.game})` });
    }
    if (violations.length > 0) throw MaestroError.invalid(violations);
    // Idempotent like `kubectl apply`: the same definition again makes no version, as an empty PATCH does.
    if (isSameDefinition(current, candidate)) {
      throw new MaestroError(
        "already_exists",
        `no change found to scheduler ${current.name}: its active version ${current.spec.version} is this definition`,
      );
    }
    return this.enqueueNewVersion(candidate, opts);
  }

  /**
   * Applies the patch to the active version and enqueues create_new_scheduler_version with the result. A patch that
   * changes nothing is refused with already_exists, as Maestro answers 409 to an empty patch.
   */
  async patchScheduler(name: string, patch: SchedulerPatch, opts: CallOptions = {}): Promise<Operation> {
    const current = await this.deps.schedulers.getScheduler(name, opts);
    const patched = applySchedulerPatch(current, patch);
    if (deepEqual(patched, current)) throw new MaestroError("already_exists", `no change found to scheduler ${name}`);
    const candidate = this.candidate(current, patched);
    assertValidScheduler(candidate, this.types);
    return this.enqueueNewVersion(candidate, opts);
  }

  /** Enqueues switch_active_version to an existing version of the scheduler. */
  async switchActiveVersion(name: string, version: string, opts: CallOptions = {}): Promise<Operation> {
    if (typeof version !== "string" || version.trim() === "") {
      throw MaestroError.invalid([{ field: "version", message: "is required" }]);
    }
    const versions = await this.deps.schedulers.listVersions(name, opts);
    if (!versions.some((v) => v.version === version))
      throw MaestroError.notFound(`scheduler ${name} version ${version}`);
    await this.refuseConcurrentVersionChange(name, opts);
    return this.deps.operations.enqueue(name, SWITCH_ACTIVE_VERSION, { newActiveVersion: version }, opts);
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
    const scheduler = await this.scalable(name, amount, opts);
    const max = (this.types.limits ?? defaultSchedulerLimits).roomsPerScheduler;
    if (scheduler.roomsReplicas + amount > max) {
      throw MaestroError.invalid([
        {
          field: "amount",
          message: `must keep roomsReplicas (${scheduler.roomsReplicas}) at most ${max} (limits.roomsPerScheduler)`,
        },
      ]);
    }
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

  /** The definition as the operation will receive it: identity and version of the current one, fresh dates. */
  private candidate(current: Scheduler, input: Scheduler): Scheduler {
    return {
      ...input,
      name: current.name,
      game: current.game,
      state: current.state,
      // The current number passes validation; the operation assigns the real one.
      spec: { ...input.spec, version: current.spec.version },
      rollbackVersion: undefined,
      createdAt: this.deps.clock.now(),
      lastDownscaleAt: undefined,
      // A new version starts with no crash record: the fix may be in it.
      roomsCrashing: undefined,
    };
  }

  private async enqueueNewVersion(candidate: Scheduler, opts: CallOptions): Promise<Operation> {
    await this.refuseConcurrentVersionChange(candidate.name, opts);
    return this.deps.operations.enqueue(
      candidate.name,
      CREATE_NEW_SCHEDULER_VERSION,
      { scheduler: schedulerToJson(candidate) },
      opts,
    );
  }

  /** Maestro #692: two version changes in flight would each number and switch versions against a stale state. */
  private async refuseConcurrentVersionChange(name: string, opts: CallOptions): Promise<void> {
    const [pending, active] = await Promise.all([
      this.deps.operations.list(name, "pending", opts),
      this.deps.operations.list(name, "active", opts),
    ]);
    const busy = [...active, ...pending].find((op) => versionOperations.includes(op.definitionName));
    if (busy) {
      throw new MaestroError(
        "failed_precondition",
        `scheduler ${name} already has a version change in progress: ${busy.definitionName} operation ${busy.id} is ${busy.status}; wait for it to finish or cancel it`,
      );
    }
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
