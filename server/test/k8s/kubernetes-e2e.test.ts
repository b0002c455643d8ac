import { CoreV1Api, KubeConfig, PolicyV1Api, type V1Pod } from "@kubernetes/client-node";
import { expect, it } from "vitest";
import { roomScenarios } from "../scenarios/room-scenarios.js";
import { eventually, http, startTestMaestro } from "../support/test-maestro.js";
import { testKubeconfig } from "./local-cluster.js";

const WAIT = { timeoutMs: 90_000, intervalMs: 250 };

const kc = new KubeConfig();
let core: CoreV1Api;
let policy: PolicyV1Api;

/** The scheduler's pods that are not being deleted. */
const pods = async (namespace: string): Promise<V1Pod[]> =>
  (await core.listNamespacedPod({ namespace, labelSelector: "heritage=maestro" })).items.filter(
    (p) => !p.metadata?.deletionTimestamp,
  );

/** Running with every container running: what kwok makes of a pod whose image it could "pull". */
const podIsUp = (pod: V1Pod): boolean =>
  pod.status?.phase === "Running" &&
  (pod.status.containerStatuses ?? []).length > 0 &&
  (pod.status.containerStatuses ?? []).every((c) => c.state?.running !== undefined);

const container = (image: string) => ({
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
});

/**
 * The shared room scenarios on the local Kubernetes control plane: schedulers become namespaces, rooms become pods
 * that kwok makes Running. kwok runs no code, so the test pings the rooms API on behalf of every room.
 */
roomScenarios(
  "room scenarios on Kubernetes (kube-apiserver + scheduler + controller manager + kwok)",
  {
    prefix: "k8s-e2e",
    rooms: 3,
    roomsPingThemselves: false,
    wait: WAIT,
    start: () => {
      kc.loadFromFile(testKubeconfig());
      core = kc.makeApiClient(CoreV1Api);
      policy = kc.makeApiClient(PolicyV1Api);
      return startTestMaestro({
        "runtime.kind": "kubernetes",
        "runtime.kubernetes.kubeconfig": testKubeconfig(),
        "runtime.kubernetes.qps": 500,
        "runtime.kubernetes.burst": 1000,
        "runtime.kubernetes.disruptionIntervalMs": 500,
        "workers.syncIntervalMs": 500,
        "workers.healthControllerIntervalMs": 500,
        "rooms.validationTimeoutMs": 60_000,
      });
    },
    container,
    // kwok pulls nothing: its stage in test/k8s/kwok/ reports ErrImagePull for images of this registry, as a kubelet would.
    brokenContainer: () => container("image-pull-error.invalid/game:0"),
    brokenDescription: /^ErrImagePull\b/,
    liveRooms: async (_maestro, scheduler) =>
      (await pods(scheduler))
        .filter(podIsUp)
        .map((p) => ({ id: p.metadata?.name ?? "", version: p.metadata?.labels?.version })),
    killRoom: async (_maestro, scheduler, roomId) => {
      await core.deleteNamespacedPod({ name: roomId, namespace: scheduler });
    },
    schedulerArtefactExists: async (_maestro, scheduler) => {
      try {
        await core.readNamespace({ name: scheduler });
        return true;
      } catch (err) {
        if ((err as { code?: number }).code === 404) return false;
        throw err;
      }
    },
  },
  (ctx) => {
    it("/readyz is 200 and its runtime check asks the API server (no rooms folder involved)", async () => {
      const ready = await eventually(
        async () => {
          const r = await http(ctx.maestro.urls.internalApi, "GET", "/readyz");
          return r.status === 200 ? r : false;
        },
        { ...WAIT, what: "/readyz 200 with the Kubernetes runtime" },
      );
      expect(ready.json.checks).toContainEqual({ name: "runtime (kubernetes)", ok: true });
    });

    it(
      "pods carry the room's identity and ports; the room's address is the node's external one; a PDB follows the count",
      async () => {
        const name = "k8s-e2e-pods";
        await ctx.createScheduler(name, 3);
        await ctx.readyRooms(name, 3);
        expect((await core.readNamespace({ name })).metadata?.labels?.heritage).toBe("maestro");

        const podList = await pods(name);
        const hostPorts = podList.map((p) => p.spec?.containers[0]?.ports?.[0]?.hostPort);
        expect(new Set(hostPorts).size).toBe(3);
        const pod = podList[0]!;
        const roomId = pod.metadata?.name ?? "";
        const token = ctx.maestro.context.tokens.tokenFor(name, roomId);
        const env = Object.fromEntries((pod.spec?.containers[0]?.env ?? []).map((e) => [e.name, e]));
        expect(env.MAESTRO_SCHEDULER_NAME?.value).toBe(name);
        expect(env.MAESTRO_ROOM_ID?.value).toBe(roomId);
        expect(env.MAESTRO_ROOM_TOKEN?.value).toBe(token);
        expect(env.GAME_MODE?.value).toBe("duel");
        expect(env.POD_NAME?.valueFrom?.fieldRef?.fieldPath).toBe("metadata.name");

        const address = await http(
          ctx.maestro.roomsUrl,
          "GET",
          `/scheduler/${name}/rooms/${roomId}/address`,
          undefined,
          {
            authorization: `Bearer ${token}`,
          },
        );
        // kwok's nodes have an InternalIP in 192.0.2.0/24 and an ExternalIP in 203.0.113.0/24: the external one wins.
        expect(address.json.host).toMatch(/^203\.0\.113\.1[01]$/);
        expect(address.json.ports).toEqual([
          { name: "game", port: pod.spec?.containers[0]?.ports?.[0]?.hostPort, protocol: "udp" },
        ]);

        await eventually(
          async () =>
            (await policy.readNamespacedPodDisruptionBudget({ name, namespace: name })).spec?.minAvailable === 2,
          { ...WAIT, what: "the disruption budget to follow the room count (floor(3 × 0.95))" },
        );
      },
      4 * WAIT.timeoutMs,
    );
  },
);
