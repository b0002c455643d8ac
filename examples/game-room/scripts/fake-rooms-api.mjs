// Runs the SDK's fake rooms API and prints every request, to try the game room without Maestro.
// Usage: node examples/game-room/scripts/fake-rooms-api.mjs [port]   (default 8070)
import { startFakeRoomsApi } from "@maestro/sdk-room/testing";

const port = Number(process.argv[2] ?? 8070);
const api = await startFakeRoomsApi({
  port,
  onRequest: (r) => {
    const what = r.body.status ?? r.body.event ?? "";
    const extra =
      r.kind === "ping" ? ` runningMatches=${r.body.runningMatches}` : ` ${JSON.stringify(r.body.metadata)}`;
    console.log(`${r.receivedAt.toISOString()} ${r.method} ${r.path} ${what}${extra} -> ${r.responseStatus}`);
  },
});
console.log(`fake rooms API on ${api.url} (Ctrl-C to stop)`);
process.once("SIGINT", () => api.close().then(() => process.exit(0)));
