// Figures for the Kubernetes runtime on the local kwok cluster (not a test): time from POST /schedulers with N room
// replicas until N pods exist, are Running and N rooms are ready, the rate at which the worker creates pods, and the
// server's RSS and CPU. Maestro runs as its own process (`maestro start`, storage on a throwaway Redis), as in
// production: this process only watches the pods and pings each room once its pod is Running, as the game server
// would (kwok runs no code), so the bench's work never stalls the server's event loop.
// Run: node bench/run.mjs scale-k8s [--timeout=<s>] [-- rooms]   (needs the control plane binaries of
// test/k8s/build-binaries.sh; the last stdout line is BENCH_RESULT {...}, with "skipped" when they are absent).
// `-- <rooms> --cpu-prof=<dir>` writes a CPU profile of the Maestro process there (node --cpu-prof) when it stops;
// `--set=<key>=<value>` (repeatable) passes a setting on to `maestro start` (e.g. operations.addRoomsBatchSize=200).
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { homedir, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, KubeConfig, Watch } from "@kubernetes/client-node";
import { HmacRoomTokens } from "../../server/src/adapters/security/hmac-room-tokens.js";
import { startRedis } from "../../server/test/support/redis.js";
import { startMaestroProcess } from "../support/maestro-process.js";

const args = process.argv.slice(2);
const ROOMS = Number(args.find((a) => !a.startsWith("--")) ?? 1000);
const SCHEDULER = "bench-scale";
/** Pings in flight at once: a fleet of rooms pings independently, this only bounds the bench's own sockets. */
const PING_CONCURRENCY = 32;
/**
 * A room pings again this often, as a game server does: a run longer than the ping timeout (rooms.pingTimeoutMs, 240 s)
 * would otherwise see its first rooms replaced as expired before the last ones are ready.
 */
const REPING_MS = 60_000;
/** Longest wait for every room to be ready (bench/run.mjs --timeout stops the whole scenario anyway). */
const WAIT_MS = 900_000;
const root = process.cwd();
const cluster = join(root, "test/k8s/cluster.sh");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function binDir(): string | undefined {
  if (process.env.K8S_BIN_DIR) return process.env.K8S_BIN_DIR;
  const script = join(root, "test/k8s/build-binaries.sh");
  const versions = execFileSync("sed", ["-n", "s/^\\(K8S\\|ETCD\\|KWOK\\)=//p", script], { encoding: "utf8" }).split(
    "\n",
  );
  const [k8s, etcd, kwok] = versions;
  const cache = process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache");
  return join(cache, "maestro-ts", `k8s-${k8s}_etcd-${etcd}_kwok-${kwok}`, "bin");
}

/** RSS (MiB) and CPU time (s, user + system) of a process, from /proc. */
function usageOf(pid: number): { rssMiB: number; cpuSeconds: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th of them.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { rssMiB: Math.round(rssKiB / 1024), cpuSeconds: ticks / 100 };
  } catch {
    return undefined;
  }
}

const bin = binDir();
if (!process.env.MAESTRO_TEST_KUBECONFIG && (!bin || !existsSync(join(bin, "kube-apiserver")))) {
  console.log(
    `BENCH_RESULT ${JSON.stringify({ scenario: "scale-k8s", skipped: "control plane binaries absent: run test/k8s/build-binaries.sh" })}`,
  );
  process.exit(0);
}

let runDir: string | undefined;
let kubeconfig = process.env.MAESTRO_TEST_KUBECONFIG;
if (!kubeconfig) {
  runDir = mkdtempSync(join(tmpdir(), "maestro-bench-k8s-"));
  const out = execFileSync("bash", [cluster, "up", runDir], {
    encoding: "utf8",
    env: { ...process.env, K8S_BIN_DIR: bin },
  });
  kubeconfig = out.trim().split("\n").at(-1);
}
const redis = await startRedis();
const secret = "bench-scale-k8s-room-token-secret";
const tokens = new HmacRoomTokens(secret);
const profDir = args.find((a) => a.startsWith("--cpu-prof="))?.slice("--cpu-prof=".length);
let maestro: Awaited<ReturnType<typeof startMaestroProcess>> | undefined;
let stopWatch = () => {};
let cleaned: Promise<void> | undefined;
/** Stops everything this bench started; also on SIGTERM/SIGINT (bench/run.mjs --timeout), so nothing is left running. */
const cleanup = () =>
  (cleaned ??= (async () => {
    stopWatch();
    await maestro?.stop().catch(() => undefined);
    await redis.stop().catch(() => undefined);
    if (runDir) execFileSync("bash", [cluster, "down", runDir]);
  })());
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    console.log(`${signal}: stopping Maestro, Redis and the cluster`);
    void cleanup().finally(() => process.exit(1));
  });
}

try {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig as string);
  const core = kc.makeApiClient(CoreV1Api);
  maestro = await startMaestroProcess(
    {
      "runtime.kind": "kubernetes",
      "runtime.kubernetes.kubeconfig": kubeconfig as string,
      "runtime.kubernetes.qps": 500,
      "runtime.kubernetes.burst": 1000,
      "storage.state.kind": "redis",
      "storage.state.url": redis.url,
      "storage.operations.kind": "redis",
      "storage.operations.url": redis.url,
      "roomsApi.tokenSecret": secret,
      "workers.healthControllerIntervalMs": 1000,
      "log.level": "warn",
      ...Object.fromEntries(
        args
          .filter((a) => a.startsWith("--set="))
          .map((a) => {
            const [key = "", ...value] = a.slice("--set=".length).split("=");
            return [key, value.join("=")];
          }),
      ),
    },
    [],
    profDir ? { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${profDir}`] } : {},
  );
  const pid = maestro.child.pid as number;
  const { managementUrl, roomsUrl } = maestro;

  // Pods as this bench sees them: name → Running (and not being deleted). Listed once in pages, then watched.
  const pods = new Map<string, boolean>();
  /** Room → when its last ping succeeded (performance.now()). */
  const pinged = new Map<string, number>();
  const queued = new Set<string>();
  const pingQueue: string[] = [];
  const onPod = (
    type: string,
    pod: { metadata?: { name?: string; deletionTimestamp?: unknown }; status?: { phase?: string } },
  ) => {
    const name = pod.metadata?.name;
    if (!name) return;
    if (type === "DELETED") {
      pods.delete(name);
      pinged.delete(name);
      return;
    }
    const running = pod.status?.phase === "Running" && !pod.metadata?.deletionTimestamp;
    pods.set(name, running);
    if (running && !pinged.has(name) && !queued.has(name)) {
      queued.add(name);
      pingQueue.push(name);
    }
  };
  const path = `/api/v1/namespaces/${SCHEDULER}/pods`;
  const labelSelector = "heritage=maestro";
  let watching = true;
  let request: { abort(): void } | undefined;
  const relistAndWatch = async (): Promise<void> => {
    let resourceVersion: string | undefined;
    let next: string | undefined;
    const seen = new Set<string>();
    do {
      const page = await core.listNamespacedPod({ namespace: SCHEDULER, labelSelector, limit: 500, _continue: next });
      for (const pod of page.items) {
        seen.add(pod.metadata?.name as string);
        onPod("ADDED", pod);
      }
      next = page.metadata?._continue;
      resourceVersion = page.metadata?.resourceVersion;
    } while (next);
    for (const name of pods.keys()) if (!seen.has(name)) pods.delete(name);
    request = await new Watch(kc).watch(
      path,
      { labelSelector, resourceVersion, allowWatchBookmarks: true },
      (type, obj) => onPod(type, obj),
      () => {
        // The API server ends watches now and then (and on 410 Gone): list again and resume.
        if (watching) void sleep(200).then(() => (watching ? relistAndWatch().catch(retryWatch) : undefined));
      },
    );
  };
  const retryWatch = (err: unknown) => {
    console.error("pod watch failed; retrying", err);
    if (watching) void sleep(1000).then(() => relistAndWatch().catch(retryWatch));
  };
  stopWatch = () => {
    watching = false;
    request?.abort();
  };

  const body = {
    name: SCHEDULER,
    game: "bench",
    maxSurge: "100%",
    roomsReplicas: ROOMS,
    portRange: { start: 20000, end: 39999 },
    spec: {
      terminationGracePeriod: "1s",
      containers: [
        {
          name: "room",
          image: "game:1",
          imagePullPolicy: "IfNotPresent",
          command: [],
          requests: { memory: "64Mi", cpu: "10m" },
          limits: { memory: "128Mi", cpu: "100m" },
          ports: [{ name: "game", protocol: "udp", port: 7000 }],
        },
      ],
    },
  };
  const cpuBefore = usageOf(pid)?.cpuSeconds ?? 0;
  const t0 = performance.now();
  const res = await fetch(`${managementUrl}/schedulers`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`create scheduler: ${res.status} ${await res.text()}`);
  await relistAndWatch();

  // Pingers: each takes the next Running room and pings it; a failed ping goes back to the end of the queue.
  let pinging = true;
  const pinger = async () => {
    while (pinging) {
      const id = pingQueue.shift();
      if (id === undefined) {
        await sleep(50);
        continue;
      }
      const r = await fetch(`${roomsUrl}/scheduler/${SCHEDULER}/rooms/${id}/ping`, {
        method: "PUT",
        headers: { "content-type": "application/json", authorization: `Bearer ${tokens.tokenFor(SCHEDULER, id)}` },
        body: JSON.stringify({ status: "ready", timestamp: Date.now() }),
      }).catch(() => undefined);
      await r?.arrayBuffer().catch(() => undefined);
      if (r?.ok) {
        pinged.set(id, performance.now());
        queued.delete(id);
      } else if (pods.has(id)) {
        await sleep(200);
        pingQueue.push(id);
      } else queued.delete(id);
    }
  };
  const pingers = Array.from({ length: PING_CONCURRENCY }, pinger);
  const reping = setInterval(() => {
    const due = performance.now() - REPING_MS;
    for (const [id, at] of pinged) {
      if (at < due && pods.get(id) && !queued.has(id)) {
        queued.add(id);
        pingQueue.push(id);
      }
    }
  }, 5_000);

  let allCreatedMs: number | undefined;
  let allRunningMs: number | undefined;
  let allReadyMs: number | undefined;
  let peakRssMiB = 0;
  let lastLog = 0;
  const deadline = t0 + WAIT_MS;
  while (allReadyMs === undefined && performance.now() < deadline) {
    const now = performance.now() - t0;
    const running = [...pods.values()].filter(Boolean).length;
    if (allCreatedMs === undefined && pods.size >= ROOMS) allCreatedMs = now;
    if (allRunningMs === undefined && running >= ROOMS) allRunningMs = now;
    const info = await fetch(`${managementUrl}/schedulers/info?game=bench`)
      .then((r) => r.json() as Promise<{ schedulers?: { name: string; roomsReady?: number }[] }>)
      .catch(() => undefined);
    const ready = info?.schedulers?.find((s) => s.name === SCHEDULER)?.roomsReady ?? 0;
    if (ready >= ROOMS) allReadyMs = performance.now() - t0;
    const usage = usageOf(pid);
    if (usage) peakRssMiB = Math.max(peakRssMiB, usage.rssMiB);
    if (now - lastLog >= 10_000) {
      lastLog = now;
      console.log(
        `${Math.round(now / 1000)} s: pods ${pods.size}, Running ${running}, pinged ${pinged.size}, ready ${ready}, ` +
          `server RSS ${usage?.rssMiB} MiB, CPU ${usage ? Math.round(usage.cpuSeconds - cpuBefore) : "?"} s, load ${loadavg()[0]?.toFixed(1)}`,
      );
    }
    if (allReadyMs === undefined) await sleep(1000);
  }
  pinging = false;
  clearInterval(reping);
  await Promise.all(pingers);
  const end = usageOf(pid);
  const cpuSeconds = end ? Math.round((end.cpuSeconds - cpuBefore) * 10) / 10 : null;
  const seconds = (ms: number | undefined) => (ms === undefined ? null : Math.round(ms) / 1000);
  const rows: { figure: string; seconds?: number | null; value?: number | string | null }[] = [
    { figure: `all ${ROOMS} pods created`, seconds: seconds(allCreatedMs) },
    { figure: `all ${ROOMS} pods Running (kwok)`, seconds: seconds(allRunningMs) },
    { figure: `all ${ROOMS} rooms ready (pinged once Running)`, seconds: seconds(allReadyMs) },
    {
      figure: "pod creation rate (pods/s)",
      value: allCreatedMs === undefined ? null : Math.round((ROOMS / allCreatedMs) * 1000),
    },
    { figure: "server RSS with every room ready / peak (MiB, maestro start)", value: `${end?.rssMiB} / ${peakRssMiB}` },
    { figure: "server CPU from POST until every room ready (s)", value: cpuSeconds },
    { figure: "load average (1 min) at the end", value: loadavg()[0]?.toFixed(1) ?? null },
  ];
  console.table(rows);
  const t1 = performance.now();
  await fetch(`${managementUrl}/schedulers/${SCHEDULER}`, { method: "DELETE" });
  while (performance.now() - t1 < 180_000 && pods.size > 0) await sleep(250);
  rows.push({ figure: `DELETE scheduler until its ${ROOMS} pods are gone`, seconds: seconds(performance.now() - t1) });
  console.table(rows.slice(-1));
  console.log(
    `BENCH_RESULT ${JSON.stringify({ scenario: "scale-k8s", rooms: ROOMS, passed: allReadyMs !== undefined, rows })}`,
  );
} finally {
  await cleanup();
}
