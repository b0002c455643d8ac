// Room allocation against Redis (not a test): 10,000 registered ready rooms, `POST /scheduler/{s}/rooms/allocate` from
// a load generator in a separate process on loopback, at several concurrency levels. Each level stops after 7,000
// allocations (70% of the rooms, so they never run out mid-level) and the rooms are made ready again between levels.
// Run: npm run bench:allocate   (options after `--`: --levels 16,64,256 --seconds 5 --rooms 10000)
import "../support/require-shim.js";
import { BENCH_MATCHMAKER_TOKEN, readyRoom, runRoomsApiBench, SCHEDULER } from "../support/rooms-api-bench.js";

await runRoomsApiBench({
  scenario: "allocate",
  notes: (rooms) => `${rooms} ready rooms, single-match, storage.state on Redis`,
  plan: (_server, rooms) => ({
    method: "POST",
    // A matchmaker token, as production allocations carry (the check is part of what is measured).
    requests: [
      {
        path: `/scheduler/${SCHEDULER}/rooms/allocate`,
        authorization: `Bearer ${BENCH_MATCHMAKER_TOKEN}`,
        body: "{}",
      },
    ],
    warmupMs: 300,
    // 70% of the rooms: the warm-up takes some too, and a level must never run out of ready rooms.
    maxRequests: Math.floor(rooms * 0.7),
  }),
  async afterLevel(server) {
    const storage = server.maestro.context.rooms;
    const allocated = (await storage.listRooms(SCHEDULER)).filter((r) => r.status === "allocated");
    const now = new Date();
    for (let i = 0; i < allocated.length; i += 500) {
      await Promise.all(allocated.slice(i, i + 500).map((r) => storage.updateRoom(readyRoom(r.id, now))));
    }
  },
});
