// Rooms API pings against Redis (not a test): 10,000 registered ready rooms each pinging `ready` with its room token,
// from a load generator in a separate process on loopback, at several concurrency levels.
// Run: npm run bench:pings   (options after `--`: --levels 16,64,256 --seconds 5 --rooms 10000)
import "../support/require-shim.js";
import { runRoomsApiBench, SCHEDULER } from "../support/rooms-api-bench.js";

await runRoomsApiBench({
  scenario: "pings",
  notes: (rooms) => `${rooms} ready rooms pinging ready with room tokens, storage.state on Redis`,
  plan: (server) => ({
    method: "PUT",
    requests: server.roomIds.map((id) => ({
      path: `/scheduler/${SCHEDULER}/rooms/${id}/ping`,
      authorization: `Bearer ${server.tokenFor(id)}`,
      body: JSON.stringify({ status: "ready", runningMatches: 0, timestamp: Math.floor(Date.now() / 1000) }),
    })),
    warmupMs: 1000,
    maxRequests: 2_000_000,
  }),
});
