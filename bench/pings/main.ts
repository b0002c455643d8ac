// Rooms API pings against Redis (not a test): 10,000 registered ready rooms each pinging `ready` with its room token,
// from a load generator in a separate process on loopback, at several concurrency levels.
// Run: npm run bench:pings   (options after `--`: --levels 16,64,256 --seconds 5 --rooms 10000)
import "../support/require-shim.js";
import type { LoadResult } from "../support/load.js";
import {
  levelsFromArgs,
  numberArg,
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
  try {
    const origin = new URL(server.roomsUrl).origin;
    const requests = server.roomIds.map((id) => ({
      path: `/scheduler/${SCHEDULER}/rooms/${id}/ping`,
      authorization: `Bearer ${server.tokenFor(id)}`,
      body: JSON.stringify({ status: "ready", runningMatches: 0, timestamp: Math.floor(Date.now() / 1000) }),
    }));
    const rows: LoadResult[] = [];
    for (const concurrency of levelsFromArgs([16, 64, 256])) {
      rows.push(
        await runLoadChild({
          origin,
          method: "PUT",
          requests,
          concurrency,
          warmupMs: 1000,
          durationMs: seconds * 1000,
          maxRequests: 2_000_000,
        }),
      );
    }
    report("pings", `${rooms} ready rooms pinging ready with room tokens, storage.state on Redis`, rows);
  } finally {
    await server.stop();
  }
}
