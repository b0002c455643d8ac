// Scale-up on the process runtime: a spawned `maestro start` (embedded default) brings a new scheduler's N rooms to
// Ready, timed from the create request. Each room
// is a small Node process that pings "ready" with its token, so the figure is the runtime's and the rooms API's cost,
// not a game's start-up. N defaults to 50 for a 2-core machine. Usage: node bench/run.mjs scale-process  [-- rooms]
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { pingingSchedulerBody } from "../../server/test/support/test-maestro.js";
import { startMaestroProcess } from "../support/maestro-process.js";

const ROOMS = Number(process.argv[2] ?? 50);
const S = "bench-scale";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rssMiB = (pid: number) =>
  Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024);

const server = await startMaestroProcess({ "workers.healthControllerIntervalMs": 1000 }, [
  "--log-level",
  "warn",
  "--log-format",
  "json",
]);
const M = server.managementUrl;
const readyRooms = async () => {
  const info = await (await fetch(`${M}/schedulers/info?game=test-game`)).json();
  return (info.schedulers?.find((s: { name: string }) => s.name === S)?.roomsReady as number | undefined) ?? 0;
};
let result: unknown;
try {
  const idle = rssMiB(server.child.pid!);
  const body = pingingSchedulerBody(S, { roomsReplicas: ROOMS, maxSurge: "100%" });
  // From the create request: the scheduler's creation is part of bringing its rooms up.
  const t0 = performance.now();
  const created = await fetch(`${M}/schedulers`, { method: "POST", body: JSON.stringify(body) });
  if (!created.ok) throw new Error(await created.text());
  let firstMs: number | undefined;
  for (;;) {
    const ready = await readyRooms();
    if (ready > 0 && firstMs === undefined) firstMs = performance.now() - t0;
    if (ready >= ROOMS) break;
    await sleep(50);
  }
  const allMs = performance.now() - t0;
  const loaded = rssMiB(server.child.pid!);
  console.log(`machine: ${cpus().length} cores, node ${process.version}; process runtime, embedded default`);
  console.log(
    `new scheduler with ${ROOMS} rooms: first ready after ${((firstMs ?? 0) / 1000).toFixed(2)} s, all ready after ` +
      `${(allMs / 1000).toFixed(2)} s (${(ROOMS / (allMs / 1000)).toFixed(1)} rooms/s); server RSS ${idle} → ${loaded} MiB`,
  );
  result = {
    scenario: "scale-process",
    rows: [
      {
        case: `${ROOMS} rooms, process runtime`,
        "first ready s": Number(((firstMs ?? 0) / 1000).toFixed(2)),
        "all ready s": Number((allMs / 1000).toFixed(2)),
        "rooms/s": Number((ROOMS / (allMs / 1000)).toFixed(1)),
        "server RSS MiB": loaded,
      },
    ],
  };
} finally {
  await server.stop();
}
// Last, after the server's own output on stop: bench/run.mjs reads the final line.
console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
