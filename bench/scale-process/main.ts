// Scale-up on the process runtime: a spawned `maestro start` (embedded default) brings a new scheduler's N rooms to
// Ready, timed from the create request. Each room
// is a small Node process that pings "ready" with its token, so the figure is the runtime's and the rooms API's cost,
// not a game's start-up. N defaults to 50 for a 2-core machine. Usage: node bench/run.mjs scale-process  [-- rooms]
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../server/test/support/free-port.js";
import { PINGING_ROOM, schedulerBody } from "../../server/test/support/test-maestro.js";

const ROOMS = Number(process.argv[2] ?? 50);
const S = "bench-scale";
const cli = join(process.cwd(), "server/dist/cli.js");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rssMiB = (pid: number) =>
  Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024);

const dataDir = mkdtempSync(join(tmpdir(), "maestro-bench-scale-"));
const [m, r, i] = [await freePort(), await freePort(), await freePort()];
const server: ChildProcess = spawn(
  process.execPath,
  [
    cli,
    "start",
    "--data-dir",
    dataDir,
    "--management-port",
    `${m}`,
    "--rooms-port",
    `${r}`,
    "--internal-port",
    `${i}`,
    "--log-level",
    "warn",
    "--log-format",
    "json",
    "--set",
    "workers.healthControllerIntervalMs=1000",
  ],
  { stdio: ["ignore", "inherit", "inherit"] },
);
const M = `http://127.0.0.1:${m}`;
const readyRooms = async () => {
  const info = await (await fetch(`${M}/schedulers/info?game=test-game`)).json();
  return (info.schedulers?.find((s: { name: string }) => s.name === S)?.roomsReady as number | undefined) ?? 0;
};
try {
  while (
    !(await fetch(`http://127.0.0.1:${i}/readyz`).then(
      (x) => x.ok,
      () => false,
    ))
  )
    await sleep(50);
  const idle = rssMiB(server.pid!);
  const body = schedulerBody(S, { roomsReplicas: ROOMS, maxSurge: "100%" });
  (body.spec as { containers: { command: string[] }[] }).containers[0]!.command = PINGING_ROOM;
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
  const loaded = rssMiB(server.pid!);
  console.log(`machine: ${cpus().length} cores, node ${process.version}; process runtime, embedded default`);
  console.log(
    `new scheduler with ${ROOMS} rooms: first ready after ${((firstMs ?? 0) / 1000).toFixed(2)} s, all ready after ` +
      `${(allMs / 1000).toFixed(2)} s (${(ROOMS / (allMs / 1000)).toFixed(1)} rooms/s); server RSS ${idle} → ${loaded} MiB`,
  );
  console.log(
    `BENCH_RESULT ${JSON.stringify({
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
    })}`,
  );
} finally {
  server.kill("SIGTERM");
  await new Promise((res) => server.once("exit", res));
  rmSync(dataDir, { recursive: true, force: true });
}
