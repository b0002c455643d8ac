import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isPortFree, RandomPortAllocator } from "../../src/adapters/port-allocator/random-port-allocator.js";
import { ProcessRuntime } from "../../src/adapters/runtime/process/process-runtime.js";
import { HmacRoomTokens } from "../../src/adapters/security/hmac-room-tokens.js";
import {
  MemoryInstanceStorage,
  MemoryLeaseStorage,
  MemoryOperationQueue,
  MemoryOperationStorage,
  MemoryRoomStorage,
  MemorySchedulerStorage,
} from "../../src/adapters/storage/memory/index.js";
import { openSchedulerStorage } from "../../src/adapters/storage/sql/open-scheduler-storage.js";
import { Autoscaler } from "../../src/core/autoscaling/autoscaler.js";
import type { Operation } from "../../src/core/entities/operation.js";
import { installFailpoints } from "../../src/core/failpoints.js";
import { builtinOperations } from "../../src/core/operations/all.js";
import { type AnyOperationDefinition, OperationRegistry } from "../../src/core/operations/definition.js";
import {
  defaultRoomOperationLimits,
  defaultValidationSettings,
  type OperationServices,
  type RoomOperationLimits,
  type ValidationSettings,
} from "../../src/core/operations/services.js";
import type { Clock } from "../../src/core/ports/clock.js";
import { silentLogger } from "../../src/core/ports/logger.js";
import type { SchedulerStorage } from "../../src/core/ports/scheduler-storage.js";
import { OperationManager } from "../../src/core/services/operation-manager.js";
import { recoverAbandonedOperations } from "../../src/core/services/operation-recovery.js";
import { OperationWorker } from "../../src/core/services/operation-worker.js";
import { RoomManager } from "../../src/core/services/room-manager.js";
import { SchedulerManager } from "../../src/core/services/scheduler-manager.js";
import { defaultRoomTimeouts, type RoomTimeouts } from "../../src/core/services/timeouts.js";
import { gameRoom, instanceOf } from "./fixtures.js";
import { waitFor } from "./wait-for.js";

// Kept importable from here, where the core tests have always taken them.
export { gameRoom, instanceOf, waitFor };

/** A clock that only moves when the test says so: timeouts are reached by advancing it, never by sleeping. */
export class ManualClock implements Clock {
  private ms: number;

  constructor(start: Date | string = "2026-03-01T12:00:00.000Z") {
    this.ms = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.ms);
  }

  advance(ms: number): Date {
    this.ms += ms;
    return this.now();
  }

  /** A date `ms` milliseconds before now. */
  ago(ms: number): Date {
    return new Date(this.ms - ms);
  }
}

/** A promise the test settles by hand, e.g. to hold an operation in progress. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Resolves when the signal aborts, rejecting with its reason as an executor that honours cancellation would. */
export function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

/** Alive and not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2));
  } catch {
    return true;
  }
}

export interface CoreHarnessOptions {
  /**
   * Scheduler storage: in memory (default), the SQL adapter on a fresh in-memory PGlite, or one the test owns (shared
   * across tests because opening PGlite is slow; close() leaves it open and only deletes the schedulers).
   */
  schedulers?: "memory" | "pglite" | SchedulerStorage;
  /** Register Maestro's own operations (default true). */
  builtins?: boolean;
  /** Extra operation definitions (tests' own). */
  definitions?: AnyOperationDefinition[];
  timeouts?: Partial<RoomTimeouts>;
  limits?: Partial<RoomOperationLimits>;
  /** Validation room of major versions (default: Maestro's 2 min, 3 attempts). */
  validation?: Partial<ValidationSettings>;
  leaseTtlMs?: number;
}

/**
 * The core services wired on real adapters: memory state storages, memory or PGlite scheduler storage, the process
 * runtime in a temporary directory, the random port allocator and HMAC room tokens. Close it in afterEach.
 */
export class CoreHarness {
  readonly clock = new ManualClock();
  readonly instances = new MemoryInstanceStorage();
  readonly rooms = new MemoryRoomStorage((s, id) => this.instances.statusOf(s, id));
  readonly leases = new MemoryLeaseStorage(this.clock);
  readonly operationStorage = new MemoryOperationStorage({ leases: this.leases });
  readonly queue = new MemoryOperationQueue();
  readonly registry = new OperationRegistry();
  readonly tokens = new HmacRoomTokens("core-harness-secret-0123456789");
  readonly roomsApiUrl = "http://127.0.0.1:18070";
  readonly timeouts: RoomTimeouts;
  readonly limits: RoomOperationLimits;
  readonly validation: ValidationSettings;
  readonly leaseTtlMs: number;
  readonly runtime: ProcessRuntime;
  readonly ports: RandomPortAllocator;
  readonly operationManager: OperationManager;
  readonly roomManager: RoomManager;
  readonly schedulerManager: SchedulerManager;
  readonly services: OperationServices;
  private readonly workers: { abort: AbortController; done: Promise<void> }[] = [];

  private constructor(
    readonly dataDir: string,
    readonly schedulers: SchedulerStorage,
    private readonly ownsSchedulers: boolean,
    opts: CoreHarnessOptions,
  ) {
    this.timeouts = { ...defaultRoomTimeouts, ...opts.timeouts };
    this.limits = { ...defaultRoomOperationLimits, ...opts.limits };
    this.validation = { ...defaultValidationSettings, ...opts.validation };
    this.leaseTtlMs = opts.leaseTtlMs ?? 60_000;
    this.runtime = new ProcessRuntime({ dataDir: join(dataDir, "rooms") });
    this.ports = new RandomPortAllocator({
      portsInUse: (o) => this.runtime.portsInUse(o),
      isFree: (port, protocol) => isPortFree(port, protocol, "127.0.0.1"),
    });
    this.operationManager = new OperationManager({
      operations: this.operationStorage,
      queue: this.queue,
      leases: this.leases,
      registry: this.registry,
      clock: this.clock,
    });
    this.roomManager = new RoomManager({
      rooms: this.rooms,
      instances: this.instances,
      runtime: this.runtime,
      ports: this.ports,
      tokens: this.tokens,
      clock: this.clock,
      logger: silentLogger,
      timeouts: this.timeouts,
      roomsApiUrl: () => this.roomsApiUrl,
    });
    this.schedulerManager = new SchedulerManager({
      schedulers: this.schedulers,
      rooms: this.rooms,
      operations: this.operationManager,
      clock: this.clock,
    });
    this.services = {
      autoscaler: new Autoscaler(),
      schedulers: this.schedulers,
      rooms: this.rooms,
      instances: this.instances,
      runtime: this.runtime,
      roomManager: this.roomManager,
      operationManager: this.operationManager,
      operationStorage: this.operationStorage,
      queue: this.queue,
      clock: this.clock,
      logger: silentLogger,
      timeouts: this.timeouts,
      limits: this.limits,
      validation: this.validation,
    };
    if (opts.builtins !== false) for (const d of builtinOperations(this.services)) this.registry.register(d);
    for (const d of opts.definitions ?? []) this.registry.register(d);
  }

  static async create(opts: CoreHarnessOptions = {}): Promise<CoreHarness> {
    const dataDir = await mkdtemp(join(tmpdir(), "maestro-core-"));
    const given = opts.schedulers;
    if (typeof given === "object") return new CoreHarness(dataDir, given, false, opts);
    const schedulers =
      given === "pglite" ? await openSchedulerStorage({ kind: "pglite" }) : new MemorySchedulerStorage();
    return new CoreHarness(dataDir, schedulers, true, opts);
  }

  /** Starts an operation worker for the scheduler; stopWorkers() (or close()) stops it. */
  startWorker(
    schedulerName: string,
    opts: { owner?: string; leaseRenewIntervalMs?: number } = {},
  ): { stop(): Promise<void>; done: Promise<void> } {
    const abort = new AbortController();
    const worker = new OperationWorker(schedulerName, {
      operations: this.operationStorage,
      queue: this.queue,
      leases: this.leases,
      registry: this.registry,
      running: this.operationManager.running,
      clock: this.clock,
      logger: silentLogger,
      leaseTtlMs: this.leaseTtlMs,
      ...opts,
    });
    const done = worker.run(abort.signal);
    const entry = { abort, done };
    this.workers.push(entry);
    return {
      done,
      stop: async () => {
        abort.abort();
        await done;
      },
    };
  }

  /**
   * Runs one operation definition directly, as a worker would (no queue, no lease): `done` settles when it returns,
   * `history` gathers its history lines as they come, `noAction()` says whether it marked itself a no-op.
   */
  runOperation(
    schedulerName: string,
    definitionName: string,
    input: Record<string, unknown> = {},
    id = definitionName,
  ): { done: Promise<void>; history: string[]; noAction(): boolean } {
    const definition = this.registry.get(definitionName);
    if (definition === undefined) throw new Error(`no operation definition ${definitionName}`);
    const history: string[] = [];
    let noAction = false;
    const operation: Operation = {
      id,
      schedulerName,
      definitionName,
      status: "in_progress",
      input,
      createdAt: this.clock.now(),
      executionHistory: [],
    };
    const done = definition.execute(
      {
        operation,
        schedulerName,
        signal: new AbortController().signal,
        history: async (event) => {
          history.push(event);
        },
        markNoAction: () => {
          noAction = true;
        },
      },
      definition.parseInput(input),
    );
    return { done, history, noAction: () => noAction };
  }

  /** An operation stored as the API stores it (its input parsed), but not queued: the test plays its first worker. */
  async acceptedOperation(
    schedulerName: string,
    definitionName: string,
    input: Record<string, unknown>,
  ): Promise<Operation> {
    const now = this.clock.now();
    const op: Operation = {
      id: randomUUID(),
      schedulerName,
      definitionName,
      status: "pending",
      input: this.registry.get(definitionName)!.parseInput(input) as Record<string, unknown>,
      createdAt: now,
      executionHistory: [{ createdAt: now, event: "Created" }],
    };
    await this.operationStorage.createOperation(op);
    return op;
  }

  /**
   * Runs `op` as a worker replica that stops for good would: lease, in_progress, execution up to the `hit`th time it
   * reaches failpoint `point` (to its end with no `stopAt`), and no report. Returns once it is stuck there with its
   * lease lapsed.
   */
  async runAsStoppedWorker(op: Operation, stopAt?: { point: string; hit?: number }): Promise<void> {
    const schedulerName = op.schedulerName;
    let hits = 0;
    const stopHit = stopAt?.hit ?? 1;
    if (stopAt !== undefined) {
      installFailpoints((name) => {
        if (name === stopAt.point && ++hits === stopHit) return new Promise<void>(() => {});
      });
    }
    const { token } = await this.leases.grantLease(schedulerName, op.id, this.leaseTtlMs, { owner: "killed-replica" });
    await this.operationStorage.updateStatus(schedulerName, op.id, "in_progress", {
      expected: "pending",
      fence: token,
    });
    const history = (event: string) =>
      this.operationStorage.appendHistory(
        schedulerName,
        op.id,
        { createdAt: this.clock.now(), event },
        { fence: token },
      );
    await history("Starting operation");
    const definition = this.registry.get(op.definitionName)!;
    const run = definition.execute(
      { operation: op, schedulerName, signal: new AbortController().signal, history, markNoAction: () => {} },
      definition.parseInput(op.input),
    );
    if (stopAt === undefined) await run;
    else {
      void run.catch(() => undefined);
      await waitFor(() => hits >= stopHit, `${stopAt.point} reached ${stopHit} times`);
    }
    this.clock.advance(this.leaseTtlMs + 1);
  }

  /** What a takeover's recovery does with the operations a stopped worker left. */
  recoverAbandoned(schedulerName: string): ReturnType<typeof recoverAbandonedOperations> {
    const deps = {
      operations: this.operationStorage,
      queue: this.queue,
      leases: this.leases,
      registry: this.registry,
      clock: this.clock,
      logger: silentLogger,
    };
    return recoverAbandonedOperations(schedulerName, deps, new AbortController().signal);
  }

  /** Waits until the operation reaches a final status and returns it. */
  waitForFinal(schedulerName: string, id: string): Promise<Operation> {
    return waitFor(async () => {
      const op = await this.operationStorage.getOperation(schedulerName, id);
      return op && !["pending", "in_progress"].includes(op.status) ? op : undefined;
    }, `operation ${id} to end`);
  }

  /** Queued operations of a scheduler, in the order the worker will run them. */
  async queuedOperations(schedulerName: string): Promise<Operation[]> {
    const ids = await this.queue.pendingIds(schedulerName);
    const ops = await Promise.all(ids.map((id) => this.operationStorage.getOperation(schedulerName, id)));
    return ops.filter((op): op is Operation => op !== undefined);
  }

  async close(): Promise<void> {
    for (const w of this.workers.splice(0)) {
      w.abort.abort();
      await w.done;
    }
    await this.runtime.close();
    if (this.ownsSchedulers) await this.schedulers.close();
    else for (const name of await this.schedulers.listSchedulerNames()) await this.schedulers.deleteScheduler(name);
    await rm(this.dataDir, { recursive: true, force: true });
  }
}
