import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../support/test-maestro.js";
import { api, Client, env, LONG, MAESTRO, type Room, readyRooms, scheduler, WAIT } from "./real-node.js";

/**
 * Room logs and crash visibility on the real node, through the in-cluster management API and maestroctl only: the
 * pod's log through the API server, the tail of a crashed room kept (in Redis) after the worker deleted its pod, and
 * `apply --wait-ready` failing fast with the reason and that tail.
 */
const cli = fileURLToPath(new URL("../../../sdk-management/dist/cli.js", import.meta.url));

function maestroctl(args: string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      env: {
        PATH: env.PATH ?? "",
        HOME: "/nonexistent",
        NO_COLOR: "1",
        MAESTRO_URL: MAESTRO,
        MAESTRO_TOKEN: env.MAESTRO_TOKEN ?? "",
      },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

const roomLog = async (name: string, id: string, tail = 100) =>
  api("GET", `/schedulers/${name}/rooms/${id}/log?tailLines=${tail}`);

describe.skipIf(!MAESTRO)("room logs and crashes on a real node (test/k8s/up.sh)", () => {
  let core: CoreV1Api;
  beforeAll(() => {
    const kc = new KubeConfig();
    kc.loadFromFile(env.MAESTRO_TEST_KUBECONFIG ?? env.KUBECONFIG ?? "");
    core = kc.makeApiClient(CoreV1Api);
  });
  const podGone = (namespace: string, name: string) =>
    eventually(
      () =>
        core.readNamespacedPod({ name, namespace }).then(
          () => false,
          (err: { code?: number }) => err.code === 404,
        ),
      { ...WAIT, what: `pod ${namespace}/${name} deleted` },
    );

  it(
    "a running room's log is its pod's log, tail included",
    async () => {
      const name = "real-logs";
      expect((await api("POST", "/schedulers", scheduler(name, 1))).status).toBe(200);
      const [room] = await readyRooms(name, 1);
      const id = room?.id ?? "";
      const full = await roomLog(name, id);
      expect(full.status, JSON.stringify(full.json)).toBe(200);
      expect(full.json.crashed ?? false).toBe(false);
      expect(full.json.log).toContain(`starting room ${id} of scheduler ${name}`);

      // A line the room logs on request, then the last line alone.
      const got = (await api("GET", `/schedulers/${name}/rooms/${id}`)).json.room as Room;
      const client = await Client.open(got.host ?? "", got.ports?.find((p) => p.name === "game")?.port ?? 0);
      client.socket.write("busy 1\n");
      await client.received(/busy 1/, "the room's answer to busy 1");
      client.close();
      const last = await eventually(
        async () => {
          const res = await roomLog(name, id, 200);
          return /busy 1% of a core/.test(res.json.log ?? "") ? res : undefined;
        },
        { ...WAIT, what: "the busy line in the room's log" },
      );
      expect(last.json.log.endsWith("\n")).toBe(true);
      const one = await roomLog(name, id, 1);
      expect(one.json.log.split("\n").filter(Boolean)).toHaveLength(1);

      // A room that does not exist: 404, as on the process runtime.
      expect((await roomLog(name, `${name}-nosuch`)).status).toBe(404);
      expect((await api("DELETE", `/schedulers/${name}`)).status).toBe(200);
    },
    LONG,
  );

  it(
    "rooms that crash: apply --wait-ready fails fast with the reason and the log tail, kept after the pods are gone",
    async () => {
      const name = "real-crash";
      const body = scheduler(name, 2);
      const container = body.spec.containers[0] as { command: string[] };
      container.command = [
        "node",
        "-e",
        "console.log('booting'); console.error(\"Error: Cannot find module '/srv/gmae.js'\"); process.exit(1)",
      ];
      const res = await maestroctl(["apply", "-f", "-", "--wait-ready"], JSON.stringify(body));
      expect(res.code, res.stderr).toBe(1);
      expect(res.stderr).toMatch(
        /maestroctl: rooms of real-crash keep crashing: \d+ rooms crashed; last (real-crash-\S+): exit code 1: Error: Cannot find module '\/srv\/gmae.js'/,
      );
      const id = /last (real-crash-\S+):/.exec(res.stderr)?.[1] ?? "";
      expect(res.stderr).toContain(
        `last 20 lines of ${id}'s log:\n  booting\n  Error: Cannot find module '/srv/gmae.js'\n`,
      );

      // The scheduler says so, and the crashed room's log outlives its pod.
      const info = (await api("GET", `/schedulers/${name}`)).json.scheduler;
      expect(info.roomsCrashing?.lastReason).toMatch(/^exit code 1: Error: Cannot find module/);
      await podGone(name, id);
      const kept = await roomLog(name, id);
      expect(kept.status, JSON.stringify(kept.json)).toBe(200);
      expect(kept.json).toEqual({ log: "booting\nError: Cannot find module '/srv/gmae.js'\n", crashed: true });
      expect((await roomLog(name, id, 1)).json.log).toBe("Error: Cannot find module '/srv/gmae.js'\n");

      // Deleting the scheduler forgets its kept logs.
      expect((await api("DELETE", `/schedulers/${name}`)).status).toBe(200);
      await eventually(async () => (await api("GET", `/schedulers/${name}`)).status === 404, {
        ...WAIT,
        what: "the scheduler gone",
      });
    },
    LONG,
  );
});
