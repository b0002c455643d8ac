import { CoreV1Api, KubeConfig, PolicyV1Api, type V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, http, schedulerBody, startTestMaestro, type TestMaestro } from "../support/test-maestro.js";
import { testKubeconfig } from "./local-cluster.js";

interface Room {
  id: string;
  status: string;
  version: string;
  isValidationRoom: boolean;
}

const WAIT = { timeoutMs: 90_000, intervalMs: 250 };

/**
 * The whole Maestro on the local Kubernetes control plane: schedulers become namespaces, rooms become pods that kwok
 * makes Running. kwok runs no code, so the test pings the rooms API on behalf of every room, as a game server would.
 */
describe("Maestro on Kubernetes (kube-apiserver + scheduler + controller manager + kwok)", () => {
  let maestro: TestMaestro;
  let core: CoreV1Api;
  let policy: PolicyV1Api;
  const pinged = new Set<string>();
  let pinging = true;
  let pinger: Promise<void> | undefined;

  const api = (method: string, path: string, body?: unknown) => http(maestro.managementUrl, method, path, body);
  const rooms = async (scheduler: string): Promise<Room[]> =>
    (await api("GET", `/schedulers/${scheduler}/rooms`)).json.rooms ?? [];
  const pods = async (scheduler: string): Promise<V1Pod[]> =>
    (await core.listNamespacedPod({ namespace: scheduler, labelSelector: "heritage=maestro" })).items.filter(
      (p) => !p.metadata?.deletionTimestamp,
    );
  const readyRooms = async (scheduler: string, n: number, version?: string) =>
    eventually(
      async () => {
        const all = await rooms(scheduler);
        const ready = all.filter((r) => r.status === "ready" && !r.isValidationRoom);
        const podList = await pods(scheduler);
        const running = podList.filter((p) => p.status?.phase === "Running");
        const versionsOk = version === undefined || running.every((p) => p.metadata?.labels?.version === version);
        return ready.length === n && all.length === n && running.length === n && versionsOk ? ready : undefined;
      },
      { ...WAIT, what: `${n} ready rooms of ${scheduler} on ${n} running pods${version ? ` at ${version}` : ""}` },
    );

  beforeAll(async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(testKubeconfig());
    core = kc.makeApiClient(CoreV1Api);
    policy = kc.makeApiClient(PolicyV1Api);
    maestro = await startTestMaestro({
      "runtime.kind": "kubernetes",
      "runtime.kubernetes.kubeconfig": testKubeconfig(),
      "runtime.kubernetes.qps": 500,
      "runtime.kubernetes.burst": 1000,
      "runtime.kubernetes.disruptionIntervalMs": 500,
      "workers.syncIntervalMs": 500,
      "workers.healthControllerIntervalMs": 500,
      "rooms.validationTimeoutMs": 60_000,
    });
    // Every room of the watched schedulers says "ready", with its own token, every 300 ms.
    pinger = (async () => {
      while (pinging) {
        for (const scheduler of pinged) {
          for (const room of await rooms(scheduler).catch(() => [] as Room[])) {
            if (room.status === "terminating" || room.status === "terminated") continue;
            const token = maestro.context.tokens.tokenFor(scheduler, room.id);
            await http(
              maestro.roomsUrl,
              "PUT",
              `/scheduler/${scheduler}/rooms/${room.id}/ping`,
              { status: "ready", timestamp: Date.now() },
              { authorization: `Bearer ${token}` },
            ).catch(() => undefined);
          }
        }
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
  });

  afterAll(async () => {
    pinging = false;
    await pinger;
    for (const scheduler of pinged) await api("DELETE", `/schedulers/${scheduler}`).catch(() => undefined);
    await maestro?.stop();
  });

  const body = (name: string, replicas: number, image = "game:1") =>
    schedulerBody(name, {
      roomsReplicas: replicas,
      portRange: { start: 20000, end: 29999 },
      spec: {
        terminationGracePeriod: "1s",
        containers: [
          {
            name: "room",
            image,
            imagePullPolicy: "IfNotPresent",
            command: [],
            environment: [
              { name: "GAME_MODE", value: "duel" },
              { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
            ],
            requests: { memory: "64Mi", cpu: "100m" },
            limits: { memory: "128Mi", cpu: "200m" },
            ports: [{ name: "game", protocol: "udp", port: 7000 }],
          },
        ],
      },
    });

  it("create → namespace, pods Running, rooms ready at the node's external address; scale up and down", async () => {
    const name = "k8s-e2e-scale";
    pinged.add(name);
    expect((await api("POST", "/schedulers", body(name, 3))).status).toBe(200);
    await readyRooms(name, 3);
    expect((await core.readNamespace({ name })).metadata?.labels?.heritage).toBe("maestro");

    const podList = await pods(name);
    const hostPorts = podList.map((p) => p.spec?.containers[0]?.ports?.[0]?.hostPort);
    expect(new Set(hostPorts).size).toBe(3);
    const pod = podList[0]!;
    const env = Object.fromEntries((pod.spec?.containers[0]?.env ?? []).map((e) => [e.name, e]));
    expect(env.MAESTRO_SCHEDULER_NAME?.value).toBe(name);
    expect(env.MAESTRO_ROOM_ID?.value).toBe(pod.metadata?.name);
    expect(env.MAESTRO_ROOM_TOKEN?.value).toBe(maestro.context.tokens.tokenFor(name, pod.metadata?.name ?? ""));
    expect(env.GAME_MODE?.value).toBe("duel");
    expect(env.POD_NAME?.valueFrom?.fieldRef?.fieldPath).toBe("metadata.name");

    const token = maestro.context.tokens.tokenFor(name, pod.metadata?.name ?? "");
    const address = await http(
      maestro.roomsUrl,
      "GET",
      `/scheduler/${name}/rooms/${pod.metadata?.name}/address`,
      undefined,
      { authorization: `Bearer ${token}` },
    );
    // kwok's nodes have an InternalIP in 192.0.2.0/24 and an ExternalIP in 203.0.113.0/24: the external one wins.
    expect(address.json.host).toMatch(/^203\.0\.113\.1[01]$/);
    expect(address.json.ports).toEqual([
      { name: "game", port: pod.spec?.containers[0]?.ports?.[0]?.hostPort, protocol: "udp" },
    ]);

    await eventually(
      async () => (await policy.readNamespacedPodDisruptionBudget({ name, namespace: name })).spec?.minAvailable === 2,
      { ...WAIT, what: "the disruption budget to follow the room count (floor(3 × 0.95))" },
    );

    expect((await api("PATCH", `/schedulers/${name}`, { roomsReplicas: 5 })).status).toBe(200);
    await readyRooms(name, 5);
    expect((await api("PATCH", `/schedulers/${name}`, { roomsReplicas: 2 })).status).toBe(200);
    await readyRooms(name, 2);
  });

  it("a major version replaces every pod; a pod deleted by hand is noticed and replaced", async () => {
    const name = "k8s-e2e-major";
    pinged.add(name);
    expect((await api("POST", "/schedulers", body(name, 3))).status).toBe(200);
    const before = await readyRooms(name, 3, "v1.0.0");

    expect((await api("POST", `/schedulers/${name}`, body(name, 3, "game:2"))).status).toBe(200);
    const after = await readyRooms(name, 3, "v2.0.0");
    expect(after.every((r) => !before.some((b) => b.id === r.id))).toBe(true);
    expect((await pods(name)).every((p) => p.spec?.containers[0]?.image === "game:2")).toBe(true);

    const victim = after[0]!.id;
    await core.deleteNamespacedPod({ name: victim, namespace: name });
    await eventually(
      async () => {
        const now = await rooms(name);
        const ready = now.filter((r) => r.status === "ready");
        return !now.some((r) => r.id === victim) && ready.length === 3 ? ready : undefined;
      },
      { ...WAIT, what: "the deleted pod's room to be replaced" },
    );
  });

  it("a container that cannot pull its image shows its room as error", async () => {
    const name = "k8s-e2e-pull-error";
    // kwok pulls nothing: its stage in test/k8s/kwok/ reports ErrImagePull for images of this registry, as a kubelet would.
    expect((await api("POST", "/schedulers", body(name, 1, "image-pull-error.invalid/game:0"))).status).toBe(200);
    const errored = await eventually(
      async () => {
        const [pod] = await pods(name);
        const waiting = pod?.status?.containerStatuses?.[0]?.state?.waiting;
        const room = (await rooms(name)).find((r) => r.id === pod?.metadata?.name && r.status === "error");
        return waiting?.reason === "ErrImagePull" && room ? room : undefined;
      },
      { ...WAIT, what: "the pod to report ErrImagePull and its room to show error" },
    );
    expect(errored.status).toBe("error");
    expect((await api("DELETE", `/schedulers/${name}`)).status).toBe(200);
  });

  it("deleting a scheduler removes its pods and its namespace", async () => {
    const name = "k8s-e2e-delete";
    pinged.add(name);
    expect((await api("POST", "/schedulers", body(name, 2))).status).toBe(200);
    await readyRooms(name, 2);
    expect((await api("DELETE", `/schedulers/${name}`)).status).toBe(200);
    pinged.delete(name);
    await eventually(async () => (await pods(name).catch(() => [])).length === 0, { ...WAIT, what: "no pod left" });
    await eventually(
      async () => {
        try {
          await core.readNamespace({ name });
          return false;
        } catch (err) {
          return (err as { code?: number }).code === 404;
        }
      },
      { ...WAIT, what: "the namespace to be gone" },
    );
  });
});
