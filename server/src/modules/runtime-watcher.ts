import type { InstanceEvent } from "../core/entities/game-room.js";
import type { Scheduler } from "../core/entities/scheduler.js";
import { isMaestroError } from "../core/errors.js";
import type { MaestroContext } from "../wiring/maestro-context.js";
import { LatestPerKey } from "./latest-per-key.js";
import type { MaestroModule } from "./module.js";
import { PerSchedulerSupervisor } from "./per-scheduler-supervisor.js";

/** Scheduler definitions change rarely; re-reading one per instance event would put storage on the hot path. */
const SCHEDULER_REFRESH_MS = 5_000;
/** Rooms whose instance events are being written at once, per scheduler. */
const EVENTS_IN_FLIGHT = 16;

/** Feeds the runtime's instance events (pods, processes) into room state, one watch per scheduler. */
/** What the runtime watcher reads from the composition root (parts: `moduleParts["runtime-watcher"]`). */
export type RuntimeWatcherContext = Pick<
  MaestroContext,
  "config" | "logger" | "events" | "schedulerStorage" | "rooms" | "runtime" | "roomManager"
>;

export function runtimeWatcherModule(ctx: RuntimeWatcherContext): MaestroModule {
  const supervisor = new PerSchedulerSupervisor({
    name: "runtime-watcher",
    schedulers: ctx.schedulerStorage,
    syncIntervalMs: ctx.config.workers.syncIntervalMs,
    events: ctx.events,
    logger: ctx.logger.child({ module: "runtime-watcher" }),
    task: async (schedulerName, signal) => {
      const log = ctx.logger.child({ module: "runtime-watcher", scheduler: schedulerName });
      let scheduler: Scheduler = await ctx.schedulerStorage.getScheduler(schedulerName, { signal });
      let loadedAt = Date.now();
      if (ctx.runtime.mitigateDisruption) keepDisruptionBudget(ctx, schedulerName, signal, log);
      // Rooms recorded before this start whose instance the runtime no longer has (a crash and restart took them):
      // out of allocation now, not when their ping times out.
      await ctx.roomManager.forgetGoneRooms(schedulerName, { signal }).catch((err: unknown) => {
        if (!signal.aborted) log.warn({ err }, "could not reconcile recorded rooms with the runtime");
      });
      const apply = async (roomId: string, event: InstanceEvent) => {
        try {
          // A deletion needs no scheduler, and arrives after the scheduler itself is gone when it is being deleted.
          if (event.type !== "deleted" && Date.now() - loadedAt > SCHEDULER_REFRESH_MS) {
            // A scheduler being deleted is gone from storage while its pods still report: keep the last copy.
            const current = scheduler;
            loadedAt = Date.now();
            scheduler = await ctx.schedulerStorage
              .getScheduler(schedulerName, { signal })
              .catch((err: unknown) => (isMaestroError(err, "not_found") ? current : Promise.reject(err)));
          }
          if (event.type === "deleted") {
            await ctx.roomManager.cleanRoomState(schedulerName, roomId, { signal });
          } else {
            await ctx.roomManager.updateInstance(scheduler, event.instance, { signal });
          }
          ctx.events.emit("room-changed", schedulerName);
        } catch (err) {
          if (signal.aborted) return;
          log.warn({ err, room: roomId, event: event.type }, "could not apply instance event");
        }
      };
      // Rooms' events are applied side by side (each is a couple of storage round trips: one after the other they
      // cap how fast thousands of starting pods show as rooms), each room's in order, and a room that changed twice
      // meanwhile is written once, with its latest state.
      const rooms = new LatestPerKey<InstanceEvent>(EVENTS_IN_FLIGHT, apply);
      try {
        for await (const event of ctx.runtime.watch(schedulerName, { signal })) {
          await rooms.push(event.instance.id, event);
        }
      } finally {
        await rooms.idle();
      }
    },
  });
  return { name: "runtime-watcher", start: () => supervisor.start(), stop: () => supervisor.stop() };
}

/** Sets the scheduler's disruption budget from its live room count now and then, until the signal aborts. */
function keepDisruptionBudget(
  ctx: RuntimeWatcherContext,
  schedulerName: string,
  signal: AbortSignal,
  log: Pick<MaestroContext["logger"], "warn">,
): void {
  const run = async () => {
    try {
      const counts = await ctx.rooms.countByStatus(schedulerName, { signal });
      const live = Object.entries(counts).reduce((n, [status, c]) => (status === "terminated" ? n : n + c), 0);
      await ctx.runtime.mitigateDisruption?.(schedulerName, live, { signal });
    } catch (err) {
      if (!signal.aborted) log.warn({ err }, "could not update the pod disruption budget");
    }
  };
  void run();
  const timer = setInterval(() => void run(), ctx.config.runtime.kubernetes.disruptionIntervalMs);
  timer.unref();
  signal.addEventListener("abort", () => clearInterval(timer), { once: true });
}
