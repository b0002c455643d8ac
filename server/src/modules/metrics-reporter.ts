import { Gauge } from "prom-client";
import { clamp } from "../core/autoscaling/autoscaler.js";
import { instanceStatuses, roomStatusNames } from "../core/entities/game-room.js";
import { type RoomUsage, resourceUtilization } from "../core/entities/room-usage.js";
import type { MaestroContext } from "../wiring/maestro-context.js";
import type { MaestroModule } from "./module.js";

/** Scrapes closer together than this reuse the last figures (a scrape lists every room of every scheduler). */
const MIN_REFRESH_MS = 1_000;
const REFRESH_TIMEOUT_MS = 5_000;

const perScheduler = ["game", "scheduler"] as const;

/**
 * Maestro's per-scheduler gauges (rooms and instances by status, matches, desired vs current rooms, autoscaling
 * targets), computed from storage when /metrics is scraped and rendered with the process's other metrics.
 */
/** What the metrics reporter reads from the composition root (parts: `moduleParts["metrics-reporter"]`). */
export type MetricsReporterContext = Pick<
  MaestroContext,
  "metrics" | "logger" | "schedulerStorage" | "rooms" | "instances" | "runtime" | "autoscaler" | "clock"
>;

export function metricsReporterModule(ctx: MetricsReporterContext): MaestroModule & { render(): Promise<string> } {
  const registers = [ctx.metrics.registry];
  const gauge = (name: string, help: string) => new Gauge({ name, help, labelNames: perScheduler, registers });
  const gru = Object.fromEntries(
    roomStatusNames.map((s) => [s, gauge(`maestro_worker_gru_${s}`, `Game rooms in status ${s}.`)]),
  );
  const inst = Object.fromEntries(
    instanceStatuses.map((s) => [s, gauge(`maestro_worker_instance_${s}`, `Runtime instances in status ${s}.`)]),
  );
  const runningMatches = gauge("maestro_worker_running_matches", "Matches running in the scheduler's rooms.");
  const maxMatches = gauge("maestro_worker_max_matches", "Matches one room can hold (matchAllocation.maxMatches).");
  const readyTarget = gauge("maestro_worker_ready_target", "roomOccupancy readyTarget (0 without that policy).");
  const fixedBuffer = gauge("maestro_worker_fixed_buffer", "fixedBuffer amount (0 without that policy).");
  const currentRooms = gauge("maestro_worker_current_rooms", "Rooms not terminating and not in error.");
  const desiredRooms = gauge("maestro_worker_desired_rooms", "Rooms the scheduler should have (replicas or policy).");
  const cpuUtilization = gauge(
    "maestro_worker_cpu_utilization",
    "Σ rooms' CPU / Σ their CPU requests (what cpu triggers compare with usage/100); absent when unmeasured.",
  );
  const memoryUtilization = gauge(
    "maestro_worker_memory_utilization",
    "Σ rooms' memory / Σ their memory requests (what memory triggers compare with usage/100); absent when unmeasured.",
  );
  const perRoom = ["game", "scheduler", "room"] as const;
  const roomCpu = new Gauge({
    name: "maestro_room_cpu_millicores",
    help: "CPU one room uses now, in millicores.",
    labelNames: perRoom,
    registers,
  });
  const roomMemory = new Gauge({
    name: "maestro_room_memory_bytes",
    help: "Memory one room uses now (process RSS, pod working set).",
    labelNames: perRoom,
    registers,
  });
  const all = [
    cpuUtilization,
    memoryUtilization,
    roomCpu,
    roomMemory,
    ...Object.values(gru),
    ...Object.values(inst),
    runningMatches,
    maxMatches,
    readyTarget,
    fixedBuffer,
    currentRooms,
    desiredRooms,
  ];

  let last = 0;
  let inflight: Promise<void> | undefined;
  const refresh = async () => {
    const signal = AbortSignal.timeout(REFRESH_TIMEOUT_MS);
    const schedulers = await ctx.schedulerStorage.listSchedulers(undefined, { signal });
    const sets: Array<() => void> = [];
    for (const s of schedulers) {
      const labels = { game: s.game, scheduler: s.name };
      const [rooms, instances, usage] = await Promise.all([
        ctx.rooms.listRooms(s.name, { signal }),
        ctx.instances.listInstances(s.name, { signal }),
        // A runtime that cannot measure now leaves the usage series out rather than failing the scrape.
        (ctx.runtime.roomUsage?.(s, { signal }) ?? Promise.resolve([])).catch((): RoomUsage[] => []),
      ]);
      const byStatus = Object.fromEntries(roomStatusNames.map((st) => [st, 0])) as Record<string, number>;
      let matches = 0;
      for (const r of rooms) {
        byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
        matches += r.runningMatches;
      }
      const byInstance = Object.fromEntries(instanceStatuses.map((st) => [st, 0])) as Record<string, number>;
      for (const i of instances) byInstance[i.status.type] = (byInstance[i.status.type] ?? 0) + 1;
      let desired = s.roomsReplicas;
      const current = rooms.length - (byStatus.terminating ?? 0) - (byStatus.error ?? 0);
      if (s.autoscaling?.enabled) {
        try {
          // metricsTriggers decides from its point history on the health controller's runs, not on scrapes.
          desired =
            s.autoscaling.policy.type === "metricsTriggers"
              ? clamp(current, s.autoscaling.min, s.autoscaling.max)
              : ctx.autoscaler.decide(s, rooms, ctx.clock.now()).desired;
        } catch {
          // A policy with bad parameters: the health controller reports it; keep the replicas figure here.
        }
      }
      const params = s.autoscaling?.enabled ? s.autoscaling.policy.parameters : undefined;
      sets.push(() => {
        for (const st of roomStatusNames) gru[st]!.set(labels, byStatus[st] ?? 0);
        for (const st of instanceStatuses) inst[st]!.set(labels, byInstance[st] ?? 0);
        runningMatches.set(labels, matches);
        maxMatches.set(labels, s.matchAllocation.maxMatches);
        readyTarget.set(labels, params?.roomOccupancy?.readyTarget ?? 0);
        fixedBuffer.set(labels, params?.fixedBuffer?.amount ?? 0);
        currentRooms.set(labels, current);
        desiredRooms.set(labels, desired);
        const cpu = resourceUtilization(usage, "cpu");
        const memory = resourceUtilization(usage, "memory");
        if (cpu !== undefined) cpuUtilization.set(labels, cpu);
        if (memory !== undefined) memoryUtilization.set(labels, memory);
        for (const u of usage) {
          roomCpu.set({ ...labels, room: u.roomId }, u.cpuMillicores);
          roomMemory.set({ ...labels, room: u.roomId }, u.memoryBytes);
        }
      });
    }
    // Swapped in one synchronous step: a deleted scheduler's series disappear, a scrape never sees half an update.
    for (const g of all) g.reset();
    for (const set of sets) set();
    await ctx.metrics.forgetSchedulersExcept(new Set(schedulers.map((s) => s.name)));
  };
  const refreshOnce = () => {
    if (!inflight && Date.now() - last >= MIN_REFRESH_MS) {
      inflight = refresh()
        .catch((err) => ctx.logger.warn({ err, module: "metrics-reporter" }, "scheduler metrics refresh failed"))
        .finally(() => {
          last = Date.now();
          inflight = undefined;
        });
    }
    return inflight ?? Promise.resolve();
  };
  return {
    name: "metrics-reporter",
    async start() {
      await refreshOnce();
    },
    async stop() {
      await inflight;
    },
    async render() {
      await refreshOnce();
      return ctx.metrics.render();
    },
  };
}
