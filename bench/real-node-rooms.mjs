// Time until N real rooms are ready on the local cluster's real node (not a test): Maestro deployed from deploy/k8s,
// rooms are pods of maestro-game-room:dev that ping the rooms API themselves. Needs the cluster of test/k8s/up.sh:
//   eval "$(bash test/k8s/up.sh)"; node bench/real-node-rooms.mjs [rooms=100]; bash test/k8s/up.sh down
const ROOMS = Number(process.argv[2] ?? 100);
const { MAESTRO_URL, MAESTRO_TOKEN } = process.env;
if (!MAESTRO_URL) {
  console.log(
    `BENCH_RESULT ${JSON.stringify({ scenario: "real-node-rooms", skipped: "MAESTRO_URL unset: run test/k8s/up.sh" })}`,
  );
  process.exit(0);
}
const name = `bench-real-${Date.now() % 100000}`;
const api = async (method, path, body) => {
  const res = await fetch(`${MAESTRO_URL}${path}`, {
    method,
    headers: { authorization: `Bearer ${MAESTRO_TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json().catch(() => undefined) };
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const t0 = performance.now();
const created = await api("POST", "/schedulers", {
  name,
  game: "bench",
  maxSurge: "100%",
  roomsReplicas: ROOMS,
  portRange: { start: 32000, end: 32767 },
  spec: {
    terminationGracePeriod: "5s",
    toleration: "real-node",
    affinity: "real-node",
    containers: [
      {
        name: "room",
        image: "maestro-game-room:dev",
        imagePullPolicy: "Never",
        command: [],
        requests: { memory: "32Mi", cpu: "5m" },
        limits: { memory: "128Mi", cpu: "500m" },
        ports: [{ name: "game", protocol: "tcp", port: 7000 }],
      },
    ],
  },
});
if (created.status !== 200) throw new Error(`create scheduler: ${created.status} ${JSON.stringify(created.json)}`);
let firstMs;
let allMs;
while (performance.now() - t0 < 900_000) {
  const rooms = (await api("GET", `/schedulers/${name}/rooms?status=ready&pageSize=1`)).json;
  const ready = rooms?.total ?? 0;
  if (ready > 0 && firstMs === undefined) firstMs = performance.now() - t0;
  if (ready >= ROOMS) {
    allMs = performance.now() - t0;
    break;
  }
  await sleep(500);
}
const t1 = performance.now();
await api("DELETE", `/schedulers/${name}`);
while (performance.now() - t1 < 300_000) {
  if ((await api("GET", `/schedulers/${name}`)).status === 404) break;
  await sleep(500);
}
const s = (ms) => (ms === undefined ? null : Math.round(ms) / 1000);
const rows = [
  { figure: `first of ${ROOMS} real rooms ready`, seconds: s(firstMs) },
  { figure: `all ${ROOMS} real rooms ready (their own pings)`, seconds: s(allMs) },
  { figure: "rooms ready per second", value: allMs === undefined ? null : Math.round((ROOMS / allMs) * 10000) / 10 },
  { figure: "DELETE scheduler until it is gone", seconds: s(performance.now() - t1) },
];
console.table(rows);
console.log(`BENCH_RESULT ${JSON.stringify({ scenario: "real-node-rooms", rooms: ROOMS, rows })}`);
