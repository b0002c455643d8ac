// Figures for the Kubernetes runtime on the local kwok cluster (not a test): time from POST /schedulers with N room
// replicas until N pods are Running and N rooms are ready, and the rate at which the worker creates pods.
// Run: npm run bench:scale-k8s [-- rooms]   (needs the control plane binaries of test/k8s/build-binaries.sh; the
// last stdout line is BENCH_RESULT {...}, with "skipped" when they are absent)
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { createLogger, loadConfig, startMaestro } from "@maestro/server";

const ROOMS = Number(process.argv[2] ?? 1000);
const SCHEDULER = "bench-scale";
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
const stopCluster = () => {
  if (runDir) execFileSync("bash", [cluster, "down", runDir]);
};

try {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig as string);
  const core = kc.makeApiClient(CoreV1Api);
  const dataDir = mkdtempSync(join(tmpdir(), "maestro-bench-"));
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir,
      "managementApi.port": 0,
      "roomsApi.port": 0,
      "internalApi.port": 0,
      "runtime.kind": "kubernetes",
      "runtime.kubernetes.kubeconfig": kubeconfig,
      "runtime.kubernetes.qps": 500,
      "runtime.kubernetes.burst": 1000,
      "workers.healthControllerIntervalMs": 1000,
      "log.level": "warn",
    },
  });
  const maestro = await startMaestro(config, ["all"], createLogger("warn"));
  const management = maestro.urls.managementApi as string;
  const roomsApi = maestro.urls.roomsApi as string;

  const body = {
    name: SCHEDULER,
    game: "bench",
    maxSurge: "100%",
    roomsReplicas: ROOMS,
    portRange: { start: 20000, end: 29999 },
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
  const t0 = performance.now();
  const res = await fetch(`${management}/schedulers`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`create scheduler: ${res.status} ${await res.text()}`);

  // kwok runs no code: ping every room whose pod is Running, as the game server would once started.
  const pinged = new Set<string>();
  let allCreatedMs: number | undefined;
  let allRunningMs: number | undefined;
  let allReadyMs: number | undefined;
  const deadline = t0 + 600_000;
  while (allReadyMs === undefined && performance.now() < deadline) {
    // Maestro runs in this process: listing 10,000 pods in one answer blocked its event loop for seconds (the worker's
    // operation leases then lapsed). Pages of 500, yielding between them, keep the server responsive.
    const pods: V1Pod[] = [];
    let next: string | undefined;
    do {
      const page = await core.listNamespacedPod({
        namespace: SCHEDULER,
        labelSelector: "heritage=maestro",
        limit: 500,
        _continue: next,
      });
      pods.push(...page.items);
      next = page.metadata?._continue;
      await new Promise((r) => setImmediate(r));
    } while (next);
    const now = performance.now() - t0;
    if (allCreatedMs === undefined && pods.length >= ROOMS) allCreatedMs = now;
    const running = pods.filter((p) => p.status?.phase === "Running" && !p.metadata?.deletionTimestamp);
    if (allRunningMs === undefined && running.length >= ROOMS) allRunningMs = now;
    const fresh = running.map((p) => p.metadata?.name as string).filter((id) => !pinged.has(id));
    for (let i = 0; i < fresh.length; i += 50) {
      await Promise.all(
        fresh.slice(i, i + 50).map(async (id) => {
          // A ping that fails (the connection dropped) is sent again on the next pass, as a room would.
          const r = await fetch(`${roomsApi}/scheduler/${SCHEDULER}/rooms/${id}/ping`, {
            method: "PUT",
            headers: {
              "content-type": "application/json",
              authorization: `Bearer ${maestro.context.tokens.tokenFor(SCHEDULER, id)}`,
            },
            body: JSON.stringify({ status: "ready", timestamp: Date.now() }),
          }).catch(() => undefined);
          if (r?.ok) pinged.add(id);
        }),
      );
    }
    const counts = await maestro.context.rooms.countByStatus(SCHEDULER);
    if (counts.ready >= ROOMS) allReadyMs = performance.now() - t0;
    else await sleep(1000);
  }
  // Maestro runs in this process: its RSS with every room ready.
  const rssMiB = Math.round(process.memoryUsage().rss / 2 ** 20);
  const seconds = (ms: number | undefined) => (ms === undefined ? null : Math.round(ms) / 1000);
  const rows = [
    { figure: `all ${ROOMS} pods created`, seconds: seconds(allCreatedMs) },
    { figure: `all ${ROOMS} pods Running (kwok)`, seconds: seconds(allRunningMs) },
    { figure: `all ${ROOMS} rooms ready (pinged once Running)`, seconds: seconds(allReadyMs) },
    {
      figure: "pod creation rate (pods/s)",
      value: allCreatedMs === undefined ? null : Math.round((ROOMS / allCreatedMs) * 1000),
    },
    { figure: "server RSS with every room ready (MiB, Maestro in this process)", value: rssMiB },
  ];
  console.table(rows);
  const t1 = performance.now();
  await fetch(`${management}/schedulers/${SCHEDULER}`, { method: "DELETE" });
  while (performance.now() - t1 < 120_000) {
    const left = (await core.listNamespacedPod({ namespace: SCHEDULER })).items.length;
    if (left === 0) break;
    await sleep(250);
  }
  rows.push({ figure: `DELETE scheduler until its ${ROOMS} pods are gone`, seconds: seconds(performance.now() - t1) });
  console.table(rows.slice(-1));
  await maestro.stop();
  console.log(`BENCH_RESULT ${JSON.stringify({ scenario: "scale-k8s", rooms: ROOMS, rows })}`);
} finally {
  stopCluster();
}
