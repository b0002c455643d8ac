import { describe, expect, it } from "vitest";
import { cpuAutoscaling } from "../support/fixtures.js";
import { eventually } from "../support/test-maestro.js";
import { api, Client, LONG, live, MAESTRO, type Room, readyRooms, rooms, scheduler, WAIT } from "./real-node.js";

/**
 * metricsTriggers on the real node, through the in-cluster management API only: the rooms are pods of the example
 * game room, the Kubernetes runtime reads their CPU from the kubelet's summary API (relative to the pods' requests),
 * and one room is made busy over its host port (`busy <percent>`). The fleet grows to max while it burns and shrinks
 * back to min once it is idle. The kubelet samples about every 10 s and the deployed health controller runs every 10 s,
 * so the trigger windows hold a few points; only conditions are awaited, never durations.
 */
interface UsageRoom extends Room {
  usage?: { cpuMillicores: number; cpuRequestMillicores: number; memoryBytes: string | number };
}

async function tell(room: Room, line: string, answer: RegExp): Promise<void> {
  const client = await Client.open(room.host ?? "", room.ports?.find((p) => p.name === "game")?.port ?? 0);
  try {
    client.socket.write(`${line}\n`);
    await client.received(answer, `the room's answer to ${line}`);
  } finally {
    client.close();
  }
}

describe.skipIf(!MAESTRO)("metricsTriggers cpu on a real node (test/k8s/up.sh)", () => {
  it(
    "a busy room scales the scheduler up to max, idle rooms bring it back to min; rooms show their CPU",
    async () => {
      const name = "real-cpu";
      const body = scheduler(name, 1, {}) as ReturnType<typeof scheduler> & { autoscaling?: unknown };
      const container = body.spec.containers[0] as { requests: Record<string, string> };
      container.requests = { memory: "32Mi", cpu: "100m" };
      // Kubelet samples usage every ~10 s: windows of 30 s hold a few points.
      body.autoscaling = cpuAutoscaling(30, 5);
      const created = await api("POST", "/schedulers", body);
      expect(created.status, JSON.stringify(created.json)).toBe(200);
      const [first] = await readyRooms(name, 1);
      const room = (await api("GET", `/schedulers/${name}/rooms/${first?.id}`)).json.room as Room;
      await tell(room, "busy 90", /busy 90/);

      // The room's usage as the management API shows it: from the kubelet, over the pod's request.
      const busy = await eventually(
        async () => {
          const r = (await api("GET", `/schedulers/${name}/rooms/${room.id}`)).json.room as UsageRoom;
          return r.usage && r.usage.cpuMillicores > 50 ? r : undefined;
        },
        { ...WAIT, what: "the busy room's CPU in GET room" },
      );
      expect(busy.usage?.cpuRequestMillicores).toBe(100);
      expect(Number(busy.usage?.memoryBytes)).toBeGreaterThan(0);

      await eventually(
        async () => {
          const all = await rooms(name);
          return all.filter(live).length === 3 && all.filter((r) => r.status === "ready").length === 3;
        },
        { ...WAIT, what: "max rooms ready while one burns CPU" },
      );
      const listed = ((await api("GET", `/schedulers/${name}/rooms?pageSize=500`)).json.rooms ?? []) as UsageRoom[];
      expect(listed.find((r) => r.id === room.id)?.usage?.cpuMillicores).toBeGreaterThan(0);

      await tell(room, "busy 0", /busy 0/);
      await eventually(
        async () => {
          const all = await rooms(name);
          return all.filter(live).length === 1 && all.some((r) => r.status === "ready");
        },
        { ...WAIT, timeoutMs: 2 * WAIT.timeoutMs, what: "back to min once idle" },
      );

      // The health controller's history says which trigger scaled.
      const list = await api("GET", `/schedulers/${name}/operations?stage=final&pageSize=200`);
      const runs = (list.json.operations as { id: string; definitionName: string }[]).filter(
        (o) => o.definitionName === "health_controller",
      );
      const histories = await Promise.all(
        runs.map(async (o) => JSON.stringify((await api("GET", `/schedulers/${name}/operations/${o.id}`)).json)),
      );
      expect(histories.join("\n")).toMatch(/up trigger 0 \(cpu\)/);
      expect(histories.join("\n")).toMatch(/down trigger 0 \(cpu\)/);
      expect((await api("DELETE", `/schedulers/${name}`)).status).toBe(200);
    },
    LONG,
  );
});
