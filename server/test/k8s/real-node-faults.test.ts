import { AppsV1Api, CoreV1Api, KubeConfig, type V1Deployment, type V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../support/test-maestro.js";
import { api, env, LONG, MAESTRO, readyRooms, rooms, scheduler, WAIT } from "./real-node.js";

/**
 * The fault matrix's core case on the real node (test/faults/operation-matrix.test.ts does every step of every operation on processes): the
 * worker pod is stalled at a failpoint in the middle of add_rooms (MAESTRO_FAILPOINTS on its Deployment, set for this
 * test only, as every other test's add_rooms would stall too) and killed there (pod deleted, no grace). The worker
 * pod that replaces it, without the failpoint, takes over: the operation is final exactly once, the room count
 * converges, and no pod is left that Maestro does not track.
 */
const FAILPOINT = "add_rooms/room-created=sleep(600000)@2";
const WORKER = { name: "maestro-worker", namespace: "maestro" };
const workerSelector = "app.kubernetes.io/component=worker";

describe.skipIf(!MAESTRO)("a worker pod killed at a failpoint inside add_rooms (test/k8s/up.sh)", () => {
  let core: CoreV1Api;
  let apps: AppsV1Api;
  beforeAll(() => {
    const kc = new KubeConfig();
    kc.loadFromFile(env.MAESTRO_TEST_KUBECONFIG ?? env.KUBECONFIG ?? "");
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
  });

  /** Sets (or, with undefined, removes) the worker's MAESTRO_FAILPOINTS; returns the ReplicaSet hash to wait for. */
  async function setFailpoints(value: string | undefined): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const d: V1Deployment = await apps.readNamespacedDeployment(WORKER);
      const c = d.spec?.template.spec?.containers[0];
      if (!c) throw new Error("the worker Deployment has no container");
      c.env = [
        ...(c.env ?? []).filter((e) => e.name !== "MAESTRO_FAILPOINTS"),
        ...(value ? [{ name: "MAESTRO_FAILPOINTS", value }] : []),
      ];
      try {
        await apps.replaceNamespacedDeployment({ ...WORKER, body: d });
        return;
      } catch (err) {
        if ((err as { code?: number }).code !== 409 || attempt > 10) throw err;
      }
    }
  }

  /** The worker pods that are not being deleted. */
  async function workers() {
    const list = await core.listNamespacedPod({ namespace: WORKER.namespace, labelSelector: workerSelector });
    return list.items.filter((p) => !p.metadata?.deletionTimestamp);
  }
  const armed = (p: Awaited<ReturnType<typeof workers>>[number]) =>
    p.spec?.containers[0]?.env?.some((e) => e.name === "MAESTRO_FAILPOINTS") ?? false;
  const ready = (p: Awaited<ReturnType<typeof workers>>[number]) =>
    p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

  /** Waits until the only worker pod is Ready and armed (or not) as asked; fails at once if that pod restarts. */
  async function onlyWorker(withFailpoint: boolean) {
    const found = await eventually<{ restarted?: V1Pod; pod?: V1Pod }>(
      async () => {
        const all = await workers();
        const restarted = all.find(
          (p) => armed(p) === withFailpoint && (p.status?.containerStatuses?.[0]?.restartCount ?? 0) > 0,
        );
        if (restarted) return { restarted };
        return all.length === 1 && armed(all[0]!) === withFailpoint && ready(all[0]!) ? { pod: all[0]! } : undefined;
      },
      {
        ...WAIT,
        timeoutMs: 2 * WAIT.timeoutMs,
        what: `one Ready worker pod ${withFailpoint ? "with" : "without"} failpoints`,
      },
    );
    if (found.restarted) {
      const name = found.restarted.metadata?.name ?? "";
      const log = await core
        .readNamespacedPodLog({ name, namespace: WORKER.namespace, previous: true, tailLines: 5 })
        .catch(() => "");
      throw new Error(`worker pod ${name} restarted:\n${log}`);
    }
    return found.pod as V1Pod;
  }

  afterAll(async () => {
    // Whatever happened, the next suites get the worker as deployed.
    if (apps) await setFailpoints(undefined).catch(() => undefined);
  });

  it(
    "stalled after its first room and killed: add_rooms finished once, roomsReplicas raised once, rooms converge, no pod untracked",
    async () => {
      const name = "real-fault";
      expect((await api("POST", "/schedulers", scheduler(name, 1))).status).toBe(200);
      await readyRooms(name, 1);

      await setFailpoints(FAILPOINT);
      const stalled = await onlyWorker(true);
      const add = await api("POST", `/schedulers/${name}/add-rooms`, { amount: 3 });
      expect(add.status).toBe(200);
      const opId = add.json.operationId as string;
      await eventually(
        async () => {
          const log = await core
            .readNamespacedPodLog({ name: stalled.metadata?.name ?? "", namespace: WORKER.namespace })
            .catch(() => "");
          return String(log).includes("failpoint add_rooms/room-created: sleep");
        },
        { ...WAIT, what: "the worker stalled at the failpoint" },
      );
      expect((await api("GET", `/schedulers/${name}/operations/${opId}`)).json.operation.status).toBe("in_progress");

      // The failpoint off for the pod that replaces it, and the stalled one killed outright.
      await setFailpoints(undefined);
      await core.deleteNamespacedPod({
        name: stalled.metadata?.name ?? "",
        namespace: WORKER.namespace,
        gracePeriodSeconds: 0,
      });
      await onlyWorker(false);

      // As the process matrix checks: finished exactly once (recovery re-runs an add_rooms whose worker died, and the
      // re-run adds what is missing of the target its first run wrote), the rooms converge to the scheduler's
      // replicas, and every pod is a room Maestro tracks.
      const op = await eventually(
        async () => {
          const o = (await api("GET", `/schedulers/${name}/operations/${opId}`)).json.operation;
          return o && !["pending", "in_progress"].includes(o.status) ? o : undefined;
        },
        { ...WAIT, what: "add_rooms final" },
      );
      const history = JSON.stringify(op.executionHistory);
      console.info(`add_rooms ended ${op.status}: ${history}`);
      expect(op.status, history).toBe("finished");
      const finished = (op.executionHistory as { event: string }[]).filter((e) => e.event === "Operation finished");
      expect(finished.length, history).toBeLessThanOrEqual(1);
      const finals = (await api("GET", `/schedulers/${name}/operations?stage=final&pageSize=500`)).json.operations as {
        id: string;
      }[];
      expect(finals.filter((o) => o.id === opId)).toHaveLength(1);
      const replicas = (await api("GET", `/schedulers/${name}`)).json.scheduler.roomsReplicas as number;
      expect(replicas, "roomsReplicas raised by the request's 3 exactly once").toBe(4);
      await readyRooms(name, replicas);
      const pods = await eventually(
        async () => {
          const list = await core.listNamespacedPod({ namespace: name });
          const live = list.items.filter((p) => !p.metadata?.deletionTimestamp);
          return live.length === replicas ? live : undefined;
        },
        { ...WAIT, what: `${replicas} pods in the scheduler's namespace` },
      );
      const tracked = new Set((await rooms(name)).map((r) => r.id));
      for (const p of pods) expect(tracked.has(p.metadata?.name ?? "")).toBe(true);
      expect((await api("DELETE", `/schedulers/${name}`)).status).toBe(200);
    },
    LONG,
  );
});
