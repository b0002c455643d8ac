import { type AddressInfo, connect, createServer } from "node:net";
import { CoreV1Api, KubeConfig, PolicyV1Api } from "@kubernetes/client-node";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { KubernetesRuntime } from "../../src/adapters/runtime/kubernetes/index.js";
import { MemoryCrashedRoomLogs } from "../../src/adapters/storage/memory/index.js";
import { isMaestroError, type MaestroError } from "../../src/core/errors.js";
import { EventRecorder, gameRoom, portsFor, roomEnv, uniqueName } from "../contract/runtime.contract.js";
import { validContainer, validScheduler } from "../support/fixtures.js";
import { freePort } from "../support/free-port.js";
import { eventually } from "../support/test-maestro.js";
import { testKubeconfig, trackedRuntime } from "./local-cluster.js";

/** What the Kubernetes runtime does beyond the Runtime contract, on the local control plane. */
describe("Kubernetes runtime on a real API server", () => {
  let core: CoreV1Api;
  let pdbs: PolicyV1Api;
  const cleanUps: (() => Promise<void>)[] = [];
  const runtime = () => {
    const tracked = trackedRuntime();
    cleanUps.push(tracked.cleanUp);
    return tracked.runtime;
  };

  beforeAll(() => {
    const kc = new KubeConfig();
    kc.loadFromFile(testKubeconfig());
    core = kc.makeApiClient(CoreV1Api);
    pdbs = kc.makeApiClient(PolicyV1Api);
  });
  afterEach(async () => {
    for (const cleanUp of cleanUps.splice(0)) await cleanUp();
  });

  it("is ready once the API server answers and its informers synced; unavailable naming the API server otherwise", async () => {
    const k8s = runtime();
    await eventually(
      () =>
        k8s.ready().then(
          () => true,
          () => false,
        ),
      { what: "the runtime to be ready" },
    );

    // The same credentials against a port where no API server listens.
    const kc = new KubeConfig();
    kc.loadFromFile(testKubeconfig());
    const cluster = kc.getCurrentCluster();
    const dead = `https://127.0.0.1:${await freePort()}`;
    kc.clusters = kc.clusters.map((c) => (c.name === cluster?.name ? { ...c, server: dead } : c));
    const unreachable = new KubernetesRuntime({ kubeConfig: kc, attempts: 1 });
    cleanUps.push(() => unreachable.close());
    const err = await unreachable.ready().catch((e: unknown) => e);
    expect(isMaestroError(err, "unavailable")).toBe(true);
    expect((err as Error).message).toMatch(/Kubernetes API unreachable on API server version/);
  });

  it("a pod whose create answer was lost is the room's, not a conflict, when the retry meets 409", async () => {
    // A TCP proxy in front of the API server that, once armed, swallows the next answer and drops that connection: the
    // request got through (the pod exists), the client sees a reset and retries (found in the 10,000-room bench).
    const kc = new KubeConfig();
    kc.loadFromFile(testKubeconfig());
    const cluster = kc.getCurrentCluster();
    const upstream = new URL(cluster?.server as string);
    let armed = false;
    let dropped = 0;
    const proxy = createServer((client) => {
      const server = connect(Number(upstream.port), upstream.hostname);
      client.pipe(server);
      server.on("data", (chunk) => {
        if (armed) {
          armed = false;
          dropped++;
          client.destroy();
          server.destroy();
          return;
        }
        client.write(chunk);
      });
      client.on("error", () => server.destroy());
      server.on("error", () => client.destroy());
      client.on("close", () => server.destroy());
      server.on("close", () => client.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const port = (proxy.address() as AddressInfo).port;
    kc.clusters = kc.clusters.map((c) =>
      c.name === cluster?.name ? { ...c, server: `https://127.0.0.1:${port}`, tlsServerName: "localhost" } : c,
    );
    const k8s = new KubernetesRuntime({ kubeConfig: kc, qps: 500, burst: 1000, requestTimeoutMs: 5_000 });
    const scheduler = validScheduler({ name: uniqueName("lost-answer"), portRange: { start: 31000, end: 31999 } });
    cleanUps.push(async () => {
      await k8s.deleteScheduler(scheduler).catch(() => undefined);
      // The runtime's kept-alive connections go with it; only then can the proxy close.
      await k8s.close();
      await new Promise((resolve) => proxy.close(resolve));
    });
    await k8s.createScheduler(scheduler);
    const room = gameRoom(scheduler);
    armed = true;
    const instance = await k8s.createRoom(scheduler, room, portsFor(scheduler), roomEnv);
    expect(dropped).toBe(1);
    expect(instance.id).toBe(room.id);
    const pod = await core.readNamespacedPod({ name: room.id, namespace: scheduler.name });
    expect(pod.metadata?.name).toBe(room.id);
  });

  it("a pod the API server refuses (422) is invalid_argument carrying the server's message", async () => {
    const k8s = runtime();
    const scheduler = validScheduler({
      name: uniqueName("invalid"),
      spec: { containers: [validContainer({ requests: { memory: "lots", cpu: "100m" } })] },
    });
    await k8s.createScheduler(scheduler);
    const err = await k8s.createRoom(scheduler, gameRoom(scheduler), portsFor(scheduler), roomEnv).catch((e) => e);
    expect(isMaestroError(err, "invalid_argument")).toBe(true);
    expect((err as MaestroError).violations[0]?.message).toMatch(/quantities must match the regular expression/);
  });

  it("a scheduler name of 63 characters gets its namespace, and its rooms (longer ids) their pods", async () => {
    const k8s = runtime();
    const name = `${uniqueName("long")}-${"x".repeat(63)}`.slice(0, 63).replace(/-+$/, "");
    const scheduler = validScheduler({ name });
    await k8s.createScheduler(scheduler);
    const room = gameRoom(scheduler, `${name}-abcde`);
    expect(room.id.length).toBeGreaterThan(63);
    const instance = await k8s.createRoom(scheduler, room, portsFor(scheduler), roomEnv);
    expect(instance.id).toBe(room.id);
    const bad = await k8s
      .createRoom(scheduler, gameRoom(scheduler, "Not_A_Pod_Name"), portsFor(scheduler), roomEnv)
      .catch((e) => e);
    expect(isMaestroError(bad, "invalid_argument")).toBe(true);
  });

  it("keeps the scheduler's pod disruption budget at the room count less the safety share", async () => {
    const k8s = runtime();
    const scheduler = validScheduler({ name: uniqueName("pdb") });
    await k8s.createScheduler(scheduler);
    const read = () => pdbs.readNamespacedPodDisruptionBudget({ name: scheduler.name, namespace: scheduler.name });
    expect((await read()).spec).toMatchObject({
      minAvailable: 0,
      selector: { matchLabels: { "maestro-scheduler": scheduler.name } },
    });
    await k8s.mitigateDisruption(scheduler.name, 40);
    expect((await read()).spec?.minAvailable).toBe(38);
    await k8s.mitigateDisruption(scheduler.name, 1);
    expect((await read()).spec?.minAvailable).toBe(0);
  });

  it("keeps the disruption budget right when replicas and the disruption controller update it at once (no 409)", async () => {
    // Two replicas' watchers and the disruption controller's status writes all change the budget's resourceVersion;
    // a replace carrying the version read a moment earlier used to fail with 409 Conflict and was not tried again.
    const a = runtime();
    const b = runtime();
    const scheduler = validScheduler({ name: uniqueName("pdb-race") });
    await a.createScheduler(scheduler);
    const counts = Array.from({ length: 12 }, (_, i) => 10 + i);
    const results = await Promise.allSettled(
      counts.map((n, i) => (i % 2 === 0 ? a : b).mitigateDisruption(scheduler.name, n)),
    );
    expect(
      results.filter((r) => r.status === "rejected").map((r) => String((r as PromiseRejectedResult).reason)),
    ).toEqual([]);
    await a.mitigateDisruption(scheduler.name, 40);
    const pdb = await pdbs.readNamespacedPodDisruptionBudget({ name: scheduler.name, namespace: scheduler.name });
    expect(pdb.spec?.minAvailable).toBe(38);
  });

  it("records why a room was deleted as a Kubernetes event", async () => {
    const k8s = runtime();
    const scheduler = validScheduler({ name: uniqueName("events"), spec: { terminationGracePeriodSeconds: 1 } });
    await k8s.createScheduler(scheduler);
    const room = gameRoom(scheduler);
    await k8s.createRoom(scheduler, room, portsFor(scheduler), roomEnv);
    await k8s.deleteRoom(scheduler.name, room.id, "scaled down by the autoscaler");
    const event = await eventually(
      async () =>
        (await core.listNamespacedEvent({ namespace: scheduler.name })).items.find(
          (e) => e.reason === "GameRoomDeleted" && e.involvedObject.name === room.id,
        ),
      { timeoutMs: 30_000, what: "the GameRoomDeleted event" },
    );
    expect(event.message).toBe("scaled down by the autoscaler");
  });

  it("room logs: a gone room's kept tail; a pod in error whose container never ran is deleted with nothing kept", async () => {
    // kwok's nodes run no container and serve no log: the real node's suite reads real logs (real-node-logs).
    const crashedLogs = new MemoryCrashedRoomLogs();
    const tracked = trackedRuntime({ crashedLogs });
    cleanUps.push(tracked.cleanUp);
    const k8s = tracked.runtime;
    const scheduler = validScheduler({
      name: uniqueName("logs"),
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [validContainer({ image: "image-pull-error.invalid/room:1" })],
      },
    });
    await k8s.createScheduler(scheduler);
    const recorder = new EventRecorder(k8s, scheduler.name);
    const room = gameRoom(scheduler);
    await k8s.createRoom(scheduler, room, portsFor(scheduler), roomEnv);
    await recorder.waitForStatus(room.id, "error");
    await recorder.stop();
    await k8s.deleteRoom(scheduler.name, room.id, "crashed");
    expect(await crashedLogs.get(scheduler.name, room.id)).toBeUndefined();

    await crashedLogs.keep(scheduler.name, "gone-room", "one\ntwo\nthree\n", new Date(), 5);
    expect(await k8s.roomLog(scheduler.name, "gone-room", 2)).toEqual({ log: "two\nthree\n", crashed: true });
    const never = await k8s.roomLog(scheduler.name, "never-there", 2).catch((e: unknown) => e);
    expect(isMaestroError(never, "not_found")).toBe(true);
    await k8s.deleteScheduler(scheduler);
    expect(await crashedLogs.get(scheduler.name, "gone-room")).toBeUndefined();
  });

  it("another replica's rooms count in portsInUse, so host ports never collide across replicas", async () => {
    const [a, b] = [runtime(), runtime()];
    const scheduler = validScheduler({ name: uniqueName("replicas") });
    await a.createScheduler(scheduler);
    const ports = portsFor(scheduler);
    const room = gameRoom(scheduler);
    const recorder = new EventRecorder(b, scheduler.name);
    await a.createRoom(scheduler, room, ports, roomEnv);
    await recorder.waitForStatus(room.id, "ready");
    await recorder.stop();
    const seenByB = await b.portsInUse();
    for (const p of ports) expect(seenByB.has(p.hostPort)).toBe(true);
    const [instance] = await b.listInstances(scheduler.name);
    expect(instance?.address?.host).toMatch(/^203\.0\.113\.1[01]$/);
  });
});
