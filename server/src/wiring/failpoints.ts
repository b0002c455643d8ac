import { MaestroError } from "../core/errors.js";
import { failpointNames, installFailpoints } from "../core/failpoints.js";

/**
 * Reads MAESTRO_FAILPOINTS (`name[:detail]=action[;…]`, e.g. `operation/leased:add_rooms=crash`) and arms those
 * failpoints. Actions: `crash` (SIGKILL this
 * process), `term` (SIGTERM: a graceful shutdown mid-step), `sleep(ms)` (stall the step); `@N` after an action fires
 * on the Nth hit only (`crash@2`). For fault tests: never set in production.
 */
export function armFailpointsFromEnv(value: string | undefined): void {
  if (value === undefined || value.trim() === "") return;
  const armed = new Map<string, { action: string; ms: number; at: number; hits: number }>();
  for (const spec of value.split(";").filter((s) => s.trim() !== "")) {
    const m = /^\s*([\w/-]+)(?::([\w-]+))?=(crash|term|sleep\((\d+)\))(?:@(\d+))?\s*$/.exec(spec);
    if (!m || !(failpointNames as readonly string[]).includes(m[1]!)) {
      throw new MaestroError(
        "invalid_argument",
        `MAESTRO_FAILPOINTS: cannot read ${JSON.stringify(spec)} (name=crash|term|sleep(ms)[@N]; names: ${failpointNames.join(", ")})`,
      );
    }
    armed.set(m[2] ? `${m[1]}:${m[2]}` : m[1]!, {
      action: m[3]!.startsWith("sleep") ? "sleep" : m[3]!,
      ms: Number(m[4] ?? 0),
      at: Number(m[5] ?? 1),
      hits: 0,
    });
  }
  installFailpoints(async (name: string, detail?: string) => {
    const point = (detail === undefined ? undefined : armed.get(`${name}:${detail}`)) ?? armed.get(name);
    if (!point) return;
    point.hits++;
    if (point.hits !== point.at) return;
    process.stderr.write(`failpoint ${name}: ${point.action}\n`);
    if (point.action === "crash") process.kill(process.pid, "SIGKILL");
    if (point.action === "term") process.kill(process.pid, "SIGTERM");
    if (point.action === "sleep") await new Promise((resolve) => setTimeout(resolve, point.ms));
  });
}
