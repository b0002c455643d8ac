import { workerTimingProblems, workerTimings } from "../config/worker-timings.js";
import { delay } from "../core/delay.js";
import { isMaestroError, MaestroError } from "../core/errors.js";
import { finishDeletedSchedulers } from "../core/services/deletion-recovery.js";
import { OperationCanceled } from "../core/services/operation-manager.js";
import { recoverAbandonedOperations } from "../core/services/operation-recovery.js";
import { OperationWorker } from "../core/services/operation-worker.js";
import { completeSchedulerCreation } from "../core/services/scheduler-creation.js";
import type { MaestroContext } from "../wiring/maestro-context.js";
import type { MaestroModule } from "./module.js";
import { PerSchedulerSupervisor } from "./per-scheduler-supervisor.js";

/**
 * Debounce for room-change wake-ups, so a burst of room events costs one health-controller run (and the queue keeps
 * at most one pending health_controller per scheduler).
 */
const WAKE_DEBOUNCE_MS = 500;

/**
 * One operation worker per scheduler this replica owns. Ownership is a renewable claim (SchedulerOwnership), so with
 * several replicas each scheduler's operations run on exactly one of them; a replica that dies loses its claims after
 * `workers.ownershipTtlMs` and another takes over, first recovering what the dead one left in progress. The owner
 * also runs the scheduler's health controller: periodically, and woken (debounced) when one of its rooms changes status
 * (RoomStorage.watchRoomStatus, so pings served by a rooms API in another process count) or its runtime reports an
 * instance event.
 */
/** What the worker reads from the composition root (parts: `moduleParts.worker`, all of them). */
export type WorkerContext = Pick<
  MaestroContext,
  | "config"
  | "logger"
  | "clock"
  | "events"
  | "schedulerStorage"
  | "rooms"
  | "operationStorage"
  | "queue"
  | "leases"
  | "registry"
  | "operationManager"
  | "roomManager"
  | "ownership"
  | "cancelSignals"
  | "replicaId"
>;

export function workerModule(ctx: WorkerContext): MaestroModule {
  const { config } = ctx;
  const logger = ctx.logger.child({ module: "worker" });
  const timings = workerTimings(config.workers);
  const ttl = timings.ownershipTtlMs;
  const stopAll = new AbortController();
  const draining = new AbortController();
  // Each owned scheduler's worker loop, so a drain can wait for the operations in flight.
  const loops = new Set<Promise<void>>();
  const supervisor = new PerSchedulerSupervisor({
    name: "worker",
    schedulers: ctx.schedulerStorage,
    syncIntervalMs: config.workers.syncIntervalMs,
    events: ctx.events,
    logger,
    task: async (schedulerName, signal) => {
      // Draining: the supervisor restarts tasks that end, but nothing new may start until the stop.
      if (draining.signal.aborted) return untilAborted(signal);
      const log = logger.child({ scheduler: schedulerName, component: "worker", replica: ctx.replicaId });
      while (!(await ctx.ownership.acquire(schedulerName, ctx.replicaId, ttl, { signal }))) {
        await delay(ttl / 3, signal);
        if (signal.aborted) return;
      }
      log.info({}, "took ownership of the scheduler's operations");
      const lost = new AbortController();
      const owned = AbortSignal.any([signal, lost.signal]);
      const renew = setInterval(() => {
        ctx.ownership
          .renew(schedulerName, ctx.replicaId, ttl)
          .then((held) => {
            if (!held && !lost.signal.aborted) {
              log.warn({}, "lost ownership of the scheduler; stopping its worker here");
              lost.abort();
            }
          })
          .catch((err) => log.warn({ err }, "could not renew scheduler ownership"));
      }, timings.ownershipRenewIntervalMs);
      const recoveryDeps = {
        queue: ctx.queue,
        leases: ctx.leases,
        registry: ctx.registry,
        clock: ctx.clock,
        logger: ctx.logger,
        operations: ctx.operationStorage,
        owner: ctx.replicaId,
        leaseTtlMs: timings.operationLeaseTtlMs,
      };
      const creation = { schedulers: ctx.schedulerStorage, operations: ctx.operationManager };
      // Asked until the scheduler is past `creating`, then never again: one read per interval only while it matters.
      let creating = true;
      const completeCreation = async () => {
        if (!creating) return false;
        const done = await completeSchedulerCreation(schedulerName, creation, { signal: owned });
        if (done === undefined) creating = false;
        return done === true;
      };
      // Not only at takeover: an operation whose lease lapsed while this replica owns the scheduler (its runner hung
      // or was cut off from Redis) is recovered too, and a create_scheduler whose enqueue died with its API call is
      // completed.
      const recover = () =>
        completeCreation()
          .then(() => recoverAbandonedOperations(schedulerName, recoveryDeps, owned))
          .catch((err) => owned.aborted || log.warn({ err }, "recovering operations with expired leases failed"));
      let recovering: Promise<unknown> | undefined;
      let recovery: NodeJS.Timeout | undefined;
      try {
        if (await completeCreation()) {
          log.warn({}, "queued the create_scheduler operation its API call did not get to queue");
        }
        // The previous owner died or lost the scheduler: rooms of its runtime that this runtime does not list are
        // gone or unmanaged, so they leave allocation now instead of when their pings time out.
        await ctx.roomManager
          .forgetGoneRooms(schedulerName, { signal: owned, takeover: true })
          .catch((err: unknown) => {
            if (!owned.aborted) log.warn({ err }, "could not reconcile the scheduler's rooms at takeover");
          });
        await recoverAbandonedOperations(schedulerName, recoveryDeps, owned);
        // Started only now: two recoveries at once could each hold an operation's lease in turn, and a worker asking
        // for it in between would fail the operation they had just re-queued.
        recovery = setInterval(() => {
          recovering ??= recover().finally(() => {
            recovering = undefined;
          });
        }, timings.leaseRecoveryIntervalMs);
        const loop = runOwnedScheduler(ctx, schedulerName, owned, draining.signal);
        loops.add(loop);
        await loop.finally(() => loops.delete(loop));
      } finally {
        clearInterval(recovery);
        await recovering;
        clearInterval(renew);
        if (!lost.signal.aborted) await ctx.ownership.release(schedulerName, ctx.replicaId).catch(() => undefined);
      }
    },
  });
  // Deletions whose worker stopped after removing the scheduler's record belong to no scheduler any more, so no owner's
  // recovery sees them: every replica looks for them (their lease picks the one that finishes each).
  const deletionDeps = {
    operations: ctx.operationStorage,
    leases: ctx.leases,
    schedulers: ctx.schedulerStorage,
    registry: ctx.registry,
    clock: ctx.clock,
    logger,
    owner: ctx.replicaId,
    leaseTtlMs: timings.operationLeaseTtlMs,
  };
  let deletionSweep: NodeJS.Timeout | undefined;
  let sweeping: Promise<unknown> | undefined;
  const sweepDeletions = () => {
    sweeping ??= finishDeletedSchedulers(deletionDeps, stopAll.signal)
      .catch((err) => stopAll.signal.aborted || logger.warn({ err }, "finishing abandoned deletions failed"))
      .finally(() => {
        sweeping = undefined;
      });
  };
  return {
    name: "worker",
    async start() {
      // loadConfig refuses these already; a config built in code (embedding, tests) is held to the same rules.
      const problems = workerTimingProblems(config.workers);
      if (problems.length > 0) {
        throw new MaestroError(
          "invalid_argument",
          `Invalid configuration:\n${problems.map((p) => `  ${p}`).join("\n")}`,
        );
      }
      // A cancel may be requested on any replica: the one running the operation hears it here.
      await ctx.cancelSignals.subscribe(
        ({ operationId }) =>
          ctx.operationManager.running.abort(operationId, new OperationCanceled("operation canceled by the user")),
        { signal: stopAll.signal },
      );
      await supervisor.start();
      sweepDeletions();
      deletionSweep = setInterval(sweepDeletions, timings.leaseRecoveryIntervalMs);
    },
    async drain(deadline) {
      draining.abort();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...loops]),
        new Promise((resolve) => {
          timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        }),
      ]);
      clearTimeout(timer);
      if (loops.size > 0)
        logger.warn(
          {},
          "drain timeout: stopping the operations still running (those safe to repeat go back to the queue)",
        );
    },
    async stop() {
      clearInterval(deletionSweep);
      await supervisor.stop();
      stopAll.abort();
      await sweeping;
    },
  };
}

async function runOwnedScheduler(
  ctx: WorkerContext,
  schedulerName: string,
  signal: AbortSignal,
  draining: AbortSignal,
): Promise<void> {
  const { config } = ctx;
  const logger = ctx.logger.child({ module: "worker" });
  const log = logger.child({ scheduler: schedulerName, component: "worker" });
  const worker = new OperationWorker(schedulerName, {
    operations: ctx.operationStorage,
    queue: ctx.queue,
    leases: ctx.leases,
    registry: ctx.registry,
    running: ctx.operationManager.running,
    clock: ctx.clock,
    logger,
    leaseTtlMs: config.workers.operationLeaseTtlMs,
    leaseRenewIntervalMs: workerTimings(config.workers).operationLeaseRenewIntervalMs,
    owner: ctx.replicaId,
  });
  const tick = () => {
    if (signal.aborted) return;
    ctx.operationManager
      .enqueueHealthController(schedulerName, { signal })
      .catch((err) => signal.aborted || log.warn({ err }, "could not enqueue health_controller"));
  };
  let wake: NodeJS.Timeout | undefined;
  const onRoomChanged = (name: string) => {
    if (name !== schedulerName || wake) return;
    wake = setTimeout(() => {
      wake = undefined;
      tick();
    }, WAKE_DEBOUNCE_MS);
  };
  const interval = setInterval(tick, config.workers.healthControllerIntervalMs);
  ctx.events.on("room-changed", onRoomChanged);
  // Its own stop: a drain ends the worker loop while `signal` (ownership) still holds, and waiting on a watch that
  // only ends with the server would hold the drain until its timeout.
  const watchStop = new AbortController();
  const watchSignal = AbortSignal.any([signal, watchStop.signal]);
  const statusWatch = (async () => {
    for await (const _ of ctx.rooms.watchRoomStatus(schedulerName, { signal: watchSignal }))
      onRoomChanged(schedulerName);
  })().catch((err: unknown) => watchSignal.aborted || log.warn({ err }, "room status watch ended"));
  tick();
  // Memoryless schedule (Maestro's): replicas' clean-ups spread out instead of firing together.
  let cleanup: NodeJS.Timeout | undefined;
  const scheduleCleanup = () => {
    const factor = Math.min(2.5, Math.max(0.1, -Math.log(1 - Math.random())));
    cleanup = setTimeout(() => {
      if (signal.aborted) return;
      ctx.operationManager
        .enqueue(schedulerName, "storage_clean_up", {}, { signal })
        .catch((err) => signal.aborted || log.warn({ err }, "could not enqueue storage_clean_up"))
        .finally(scheduleCleanup);
    }, config.workers.storageCleanupIntervalMs * factor);
  };
  scheduleCleanup();
  try {
    await worker.run(signal, { draining });
  } finally {
    clearTimeout(cleanup);
    clearInterval(interval);
    clearTimeout(wake);
    ctx.events.off("room-changed", onRoomChanged);
    watchStop.abort();
    await statusWatch;
    if (!draining.aborted) await dropTicksOfGoneScheduler(ctx, schedulerName, log);
  }
}

/** The operations this loop queues by itself, with nobody asking: a deleted scheduler has no use for them. */
const TICKS = new Set(["health_controller", "storage_clean_up"]);

/**
 * A tick can queue a health check after delete_scheduler cleared the scheduler's operations and before this loop
 * heard the scheduler was gone; with no owner left it would stay pending for ever. Only the loop's own kinds go, so a
 * scheduler created again under the name meanwhile keeps its create_scheduler.
 */
async function dropTicksOfGoneScheduler(
  ctx: WorkerContext,
  schedulerName: string,
  log: WorkerContext["logger"],
): Promise<void> {
  try {
    const gone = await ctx.schedulerStorage.getScheduler(schedulerName).then(
      () => false,
      (err: unknown) => isMaestroError(err, "not_found"),
    );
    if (!gone) return;
    for (const op of await ctx.operationStorage.listOperations(schedulerName, "pending")) {
      if (TICKS.has(op.definitionName)) await ctx.operationStorage.deleteOperation(schedulerName, op.id);
    }
  } catch (err) {
    log.warn({ err }, "could not drop the health checks queued for a deleted scheduler");
  }
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}
