// Room allocation against Redis (not a test): 10,000 registered ready rooms, `POST /scheduler/{s}/rooms/allocate` from
// a load generator in a separate process on loopback, at several concurrency levels. Each level stops after 9,000
// allocations (so the rooms never run out mid-level) and the rooms are made ready again between levels.
// Run: npm run bench:allocate   (options after `--`: --levels 16,64,256 --seconds 5 --rooms 10000)
import "../support/require-shim.js";
import type { LoadResult } from "../support/load.js";
import {
  levelsFromArgs,
  numberArg,
  readyRoom,
  report,
  runAsLoadChild,
  runLoadChild,
  SCHEDULER,
  startBenchServer,
} from "../support/rooms-api-bench.js";

if (!(await runAsLoadChild())) {
  const rooms = numberArg("rooms", 10_000);
  const seconds = numberArg("seconds", 5);
  const server = await startBenchServer(rooms);
  const { rooms: storage } = server.maestro.context;
  try {
    const origin = new URL(server.roomsUrl).origin;
    const rows: LoadResult[] = [];
    for (const concurrency of levelsFromArgs([16, 64, 256])) {
      const row = await runLoadChild({
        origin,
        method: "POST",
        requests: [{ path: `/scheduler/${SCHEDULER}/rooms/allocate`, authorization: "", body: "{}" }],
        concurrency,
        warmupMs: 300,
        durationMs: seconds * 1000,
        maxRequests: Math.floor(rooms * 0.9) - 2000,
      });
      rows.push(row);
      const allocated = (await storage.listRooms(SCHEDULER)).filter((r) => r.status === "allocated");
      const now = new Date();
      for (let i = 0; i < allocated.length; i += 500) {
        await Promise.all(allocated.slice(i, i + 500).map((r) => storage.updateRoom(readyRoom(r.id, now))));
      }
    }
    report("allocate", `${rooms} ready rooms, single-match, storage.state on Redis`, rows);
  } finally {
    await server.stop();
  }
}
