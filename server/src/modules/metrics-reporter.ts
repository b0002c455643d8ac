import { instanceStatuses, roomStatusNames } from "../core/entities/game-room.js";
import type { MaestroContext } from "../wiring/maestro-context.js";
import type { MaestroModule } from "./module.js";

/**
 * Maestro's per-scheduler room gauges (maestro_worker_gru_<status>, maestro_worker_instance_<status>), recomputed
 * periodically and exposed in Prometheus text format on the internal API's /metrics.
 */
export function metricsReporterModule(ctx: MaestroContext): MaestroModule & { render(): string } {
  let text = "";
  let timer: NodeJS.Timeout | undefined;
  const refresh = async () => {
    const lines: string[] = [];
    const schedulers = await ctx.schedulerStorage.listSchedulers();
    const gru = new Map<string, string[]>();
    const inst = new Map<string, string[]>();
    for (const s of schedulers) {
      const labels = `{game="${esc(s.game)}",scheduler="${esc(s.name)}"}`;
      const counts = await ctx.rooms.countByStatus(s.name);
      for (const status of roomStatusNames)
        push(gru, status, `maestro_worker_gru_${status}${labels} ${counts[status] ?? 0}`);
      const instances = await ctx.instances.listInstances(s.name);
      for (const status of instanceStatuses) {
        const n = instances.filter((i) => i.status.type === status).length;
        push(inst, status, `maestro_worker_instance_${status}${labels} ${n}`);
      }
    }
    for (const [status, samples] of gru) {
      lines.push(
        `# HELP maestro_worker_gru_${status} Game rooms in status ${status}.`,
        `# TYPE maestro_worker_gru_${status} gauge`,
        ...samples,
      );
    }
    for (const [status, samples] of inst) {
      lines.push(
        `# HELP maestro_worker_instance_${status} Runtime instances in status ${status}.`,
        `# TYPE maestro_worker_instance_${status} gauge`,
        ...samples,
      );
    }
    text = lines.length ? `${lines.join("\n")}\n` : "";
  };
  return {
    name: "metrics-reporter",
    async start() {
      await refresh();
      timer = setInterval(() => {
        refresh().catch((err) => ctx.logger.warn({ err }, "metrics refresh failed"));
      }, ctx.config.workers.syncIntervalMs);
    },
    async stop() {
      clearInterval(timer);
    },
    render: () => text,
  };
}

function push(map: Map<string, string[]>, key: string, line: string): void {
  const list = map.get(key) ?? [];
  list.push(line);
  map.set(key, list);
}

function esc(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
