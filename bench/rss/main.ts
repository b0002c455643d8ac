// Server RSS with 10,000 rooms registered: a whole embedded Maestro (PGlite, memory state, process runtime) runs in
// this process; 10,000 occupied rooms and their instances are stored directly (no room processes), then the APIs and
// /metrics are exercised over them. Usage: node bench/run.mjs rss   [-- rooms] (default 10000)
import { cpus } from "node:os";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { Instance } from "../../server/src/core/entities/game-room.js";
import { gameRoom } from "../../server/test/support/fixtures.js";
import { schedulerBody, startTestMaestro } from "../../server/test/support/test-maestro.js";

const ROOMS = Number(process.argv[2] ?? 10_000);
const S = "bench-rss";
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const settledMiB = () => {
  gc();
  gc();
  return Math.round(process.memoryUsage().rss / 2 ** 20);
};

// Rooms are stored directly: the periodic health controller must not "fix" them during the measurement.
const maestro = await startTestMaestro({ "workers.healthControllerIntervalMs": 3_600_000 });
try {
  const M = maestro.managementUrl;
  // Busy rooms under a fixedBuffer policy: the health controller, woken as rooms are stored, wants every stored room
  // plus one spare (one real room process) and so removes none of them.
  const body = schedulerBody(S, {
    autoscaling: {
      enabled: true,
      min: 1,
      max: -1,
      cooldown: 0,
      policy: { type: "fixedBuffer", parameters: { fixedBuffer: { amount: 1 } } },
    },
  });
  const res = await fetch(`${M}/schedulers`, { method: "POST", body: JSON.stringify(body) });
  if (!res.ok) throw new Error(await res.text());
  while ((await (await fetch(`${M}/schedulers/${S}`)).json()).scheduler?.state !== "in-sync") {
    await new Promise((r) => setTimeout(r, 50));
  }
  const before = settledMiB();
  const heapBefore = process.memoryUsage().heapUsed;
  const now = new Date();
  for (let i = 0; i < ROOMS; i++) {
    const id = `room-${String(i).padStart(6, "0")}`;
    const room = gameRoom(
      {
        id,
        schedulerName: S,
        status: "occupied",
        pingStatus: "occupied",
        runningMatches: 1,
        metadata: { region: "eu", mode: "ranked" },
      },
      now,
    );
    const instance: Instance = {
      id,
      schedulerName: S,
      status: { type: "ready", description: "ready" },
      address: { host: "127.0.0.1", ports: [{ name: "game", protocol: "tcp", port: 40000 + (i % 20000) }] },
    } as Instance;
    await maestro.context.rooms.createRoom(room);
    await maestro.context.instances.upsertInstance(instance);
  }
  const stored = settledMiB();
  // RSS moves in heap-sized steps; the live heap says what the rooms themselves take.
  const heapPerRoomKiB = Number(((process.memoryUsage().heapUsed - heapBefore) / 1024 / ROOMS).toFixed(2));
  const list = await (await fetch(`${M}/schedulers/${S}/rooms`)).json();
  // The reporter reuses figures computed less than a second ago: let those from before the rooms age out.
  await new Promise((r) => setTimeout(r, 1_100));
  const metrics = await (await fetch(`${maestro.urls.internalApi}/metrics`)).text();
  const gauge = metrics.split("\n").find((l) => l.startsWith(`maestro_worker_gru_occupied{`) && l.includes(`"${S}"`));
  if (!gauge || Number(gauge.split(" ").at(-1)) < ROOMS) {
    throw new Error(`maestro_worker_gru_occupied does not show the ${ROOMS} stored rooms: ${gauge ?? "no series"}`);
  }
  const afterUse = settledMiB();
  const listed = Array.isArray(list.rooms) ? list.rooms.length : 0;
  console.log(`machine: ${cpus().length} cores, node ${process.version}; embedded default (PGlite, memory state)`);
  console.log(
    `server RSS: ${before} MiB with the scheduler and no rooms, ${stored} MiB with ${ROOMS} rooms stored, ` +
      `${afterUse} MiB after listing ${listed} rooms and a /metrics scrape ` +
      `(live heap ≈ ${heapPerRoomKiB} KiB per room)`,
  );
  console.log(
    `BENCH_RESULT ${JSON.stringify({
      scenario: "rss",
      rows: [
        {
          case: `${ROOMS} rooms registered, embedded`,
          "RSS no rooms MiB": before,
          "RSS rooms stored MiB": stored,
          "RSS after list+scrape MiB": afterUse,
          "heap KiB per room": heapPerRoomKiB,
          // Rooms the list did not return (the figures would then describe fewer rooms than claimed).
          errors: ROOMS - listed,
        },
      ],
    })}`,
  );
} finally {
  await maestro.stop();
}
