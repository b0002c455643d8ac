import { OperationWorker } from "../core/services/operation-worker.js";
import type { MaestroContext } from "../wiring/maestro-context.js";
import type { MaestroModule } from "./module.js";
import { PerSchedulerSupervisor } from "./per-scheduler-supervisor.js";

/** Debounce for room-change wake-ups, so a burst of room events costs one health-controller run. */
const WAKE_DEBOUNCE_MS = 500;

/**
 * One operation worker per scheduler, plus its health-controller schedule: periodic, and woken (debounced) when a
 * room of the scheduler changes in this process.
 */
export function workerModule(ctx: MaestroContext): MaestroModule {
  const { config, logger } = ctx;
  const supervisor = new PerSchedulerSupervisor({
    name: "worker",
    schedulers: ctx.schedulerStorage,
    syncIntervalMs: config.workers.syncIntervalMs,
    events: ctx.events,
    logger,
    task: async (schedulerName, signal) => {
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
      tick();
      try {
        await worker.run(signal);
      } finally {
        clearInterval(interval);
        clearTimeout(wake);
        ctx.events.off("room-changed", onRoomChanged);
      }
    },
  });
  return { name: "worker", start: () => supervisor.start(), stop: () => supervisor.stop() };
}
