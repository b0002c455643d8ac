import { execFileSync } from "node:child_process";
import { CoreV1Api, KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../support/test-maestro.js";
import {
  api,
  Client,
  env,
  LONG,
  live,
  MAESTRO,
  matchmaker,
  type Room,
  readyRooms,
  rooms,
  scheduler,
  WAIT,
} from "./real-node.js";

/**
 * Maestro deployed from deploy/k8s on the local cluster's real node (test/k8s/up.sh), driven only through its
 * in-cluster APIs: rooms are real pods of the example game-room image that ping the rooms API by themselves. Runs
 * when run.sh brought the real node up (it exports MAESTRO_URL and the rest); skipped otherwise.
 */
describe.skipIf(!MAESTRO)("Maestro on a real node: rooms are pods of the game-room image (test/k8s/up.sh)", () => {
  let core: CoreV1Api;
  beforeAll(() => {
    const kc = new KubeConfig();
    kc.loadFromFile(env.MAESTRO_TEST_KUBECONFIG ?? env.KUBECONFIG ?? "");
    core = kc.makeApiClient(CoreV1Api);
  });
  const pod = (namespace: string, name: string): Promise<V1Pod> => core.readNamespacedPod({ name, namespace });
  const namespaceGone = (namespace: string) =>
    eventually(
      async () =>
        core.readNamespace({ name: namespace }).then(
          () => false,
          (err: { code?: number }) => err.code === 404,
        ),
      { ...WAIT, what: `namespace ${namespace} and its pods gone` },
    );

  it(
    "create → ready by their own pings; TCP echo at the reported address and a round; scale; major version within maxSurge; a killed room process; allocate and a round; delete with SIGTERM drain; a missing image",
    async () => {
      const name = "real-e2e";
      expect((await api("POST", "/schedulers", scheduler(name, 2))).status).toBe(200);
      const [first] = await readyRooms(name, 2, "v1.0.0");

      // The address Maestro reports is the node's and the room's host port: a real TCP echo through portmap.
      const room = (await api("GET", `/schedulers/${name}/rooms/${first?.id}`)).json.room as Room;
      const port = room.ports?.find((p) => p.name === "game")?.port ?? 0;
      expect(room.host).toBe("10.88.0.1");
      const probe = await Client.open(room.host ?? "", port);
      probe.socket.write("hello\n");
      await probe.received(/hello/, "the echo of the game room");
      // A connected client is a match: the room reports itself occupied, and ready again once the client leaves.
      await eventually(async () => (await rooms(name)).some((r) => r.id === room.id && r.status === "occupied"), {
        ...WAIT,
        what: "the room occupied while a client plays",
      });
      probe.close();
      await readyRooms(name, 2);

      // Scale up and down.
      expect((await api("PATCH", `/schedulers/${name}`, { roomsReplicas: 3 })).status).toBe(200);
      await readyRooms(name, 3);
      expect((await api("PATCH", `/schedulers/${name}`, { roomsReplicas: 2 })).status).toBe(200);
      await readyRooms(name, 2);

      // A major version (a new env var) replaces every room, never with more than replicas + maxSurge rooms up.
      let most = 0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          most = Math.max(most, (await rooms(name)).filter(live).length);
          await new Promise((r) => setTimeout(r, 200));
        }
      })();
      const v2 = scheduler(name, 2, {});
      (v2.spec.containers[0] as Record<string, unknown>).environment = [{ name: "GAME_MODE", value: "v2" }];
      expect((await api("POST", `/schedulers/${name}`, v2)).status).toBe(200);
      await readyRooms(name, 2, "v2.0.0");
      sampling = false;
      await sampler;
      expect(most).toBeLessThanOrEqual(3);

      // The room's process killed inside its container: Maestro replaces the room.
      const [victim] = await readyRooms(name, 2, "v2.0.0");
      const containerId = (await pod(name, victim?.id ?? "")).status?.containerStatuses?.[0]?.containerID ?? "";
      execFileSync("ctr", [
        "--address",
        env.MAESTRO_NODE_CONTAINERD ?? "",
        "-n",
        "k8s.io",
        "tasks",
        "kill",
        "-s",
        "SIGKILL",
        containerId.replace(/^containerd:\/\//, ""),
      ]);
      await eventually(
        async () => {
          const all = await rooms(name);
          return (
            !all.some((r) => r.id === victim?.id && live(r) && r.status !== "error") &&
            all.filter((r) => r.status === "ready" && r.id !== victim?.id).length === 2
          );
        },
        { ...WAIT, what: "the killed room replaced by a new ready one" },
      );

      // Allocation through the rooms API, as a matchmaker does, and a round on the allocated room. After the version
      // change: an allocated room is kept for the allocation TTL (5 min), which would hold that up.
      const allocated = await matchmaker("POST", `/scheduler/${name}/rooms/allocate`, {});
      expect(allocated.status).toBe(200);
      expect(allocated.json).toMatchObject({ success: true, host: "10.88.0.1" });
      const player = await Client.open(allocated.json.host, allocated.json.ports[0].port);
      await eventually(
        async () => (await rooms(name)).some((r) => r.id === allocated.json.roomId && r.status === "occupied"),
        { ...WAIT, what: "the allocated room occupied during its round" },
      );
      player.close();
      await eventually(
        async () => (await rooms(name)).some((r) => r.id === allocated.json.roomId && r.status === "ready"),
        { ...WAIT, what: "the allocated room ready after its round" },
      );

      // SIGTERM with a client connected: deleting the scheduler stops every pod gracefully, and the room SDK's drain
      // tells the client before the room goes (scale-down never takes an occupied room). The pods and the
      // namespace go.
      const [draining] = await readyRooms(name, 2);
      const drained = (await api("GET", `/schedulers/${name}/rooms/${draining?.id}`)).json.room as Room;
      const last = await Client.open(drained.host ?? "", drained.ports?.[0]?.port ?? 0);
      await eventually(async () => (await rooms(name)).some((r) => r.id === drained.id && r.status === "occupied"), {
        ...WAIT,
        what: "the room occupied before it is drained",
      });
      expect((await api("DELETE", `/schedulers/${name}`)).status).toBe(200);
      await last.received(/server shutting down/, "the drain message the room sends on SIGTERM");
      last.close();
      await namespaceGone(name);

      // An image the node does not have (pull policy Never): the room is an error with the kubelet's reason.
      const broken = "real-e2e-broken";
      expect((await api("POST", "/schedulers", scheduler(broken, 1, {}, "maestro-no-such-image:0"))).status).toBe(200);
      const failed = await eventually(async () => (await rooms(broken)).find((r) => r.status === "error"), {
        ...WAIT,
        what: "the room with a missing image in error",
      });
      expect(failed.instanceStatusDescription).toMatch(/^ErrImageNeverPull\b/);
      expect((await api("DELETE", `/schedulers/${broken}`)).status).toBe(200);
      await namespaceGone(broken);
    },
    LONG,
  );

  it(
    "the worker pod killed in the middle of an operation: the new worker pod finishes it",
    async () => {
      const name = "real-e2e-worker";
      expect((await api("POST", "/schedulers", scheduler(name, 1))).status).toBe(200);
      await readyRooms(name, 1);
      const add = await api("POST", `/schedulers/${name}/add-rooms`, { amount: 4 });
      expect(add.status).toBe(200);
      const workers = await core.listNamespacedPod({
        namespace: "maestro",
        labelSelector: "app.kubernetes.io/component=worker",
      });
      const old = workers.items.map((p) => p.metadata?.name ?? "");
      for (const w of old) await core.deleteNamespacedPod({ name: w, namespace: "maestro", gracePeriodSeconds: 0 });
      await eventually(
        async () => {
          const now = await core.listNamespacedPod({
            namespace: "maestro",
            labelSelector: "app.kubernetes.io/component=worker",
          });
          return now.items.some(
            (p) =>
              !old.includes(p.metadata?.name ?? "") &&
              p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
          );
        },
        { ...WAIT, what: "a new worker pod Ready" },
      );
      await readyRooms(name, 5);
      const op = (await api("GET", `/schedulers/${name}/operations/${add.json.operationId}`)).json.operation;
      expect(op.status).toBe("finished");
      expect((await api("DELETE", `/schedulers/${name}`)).status).toBe(200);
    },
    LONG,
  );
});
