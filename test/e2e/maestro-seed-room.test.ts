import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, type MaestroProcess, startMaestroProcess, waitFor } from "../support/maestro-process.js";

/**
 * Maestro's documented test room, unchanged: a shell loop that PUTs a ready ping with curl and no token. It must work
 * against a server started in Maestro-compatible mode, and be refused by default.
 */
const seedScheduler = (name: string) => ({
  name,
  game: "seed",
  maxSurge: "10%",
  roomsReplicas: 1,
  portRange: { start: 46000, end: 46999 },
  spec: {
    terminationGracePeriod: "5",
    containers: [
      {
        name: "room",
        image: "alpine:3.15.0",
        imagePullPolicy: "IfNotPresent",
        command: [
          "sh",
          "-c",
          `while true; do curl --request PUT $ROOMS_API_ADDRESS/scheduler/$MAESTRO_SCHEDULER_NAME/rooms/$MAESTRO_ROOM_ID/ping --data-raw '{"status": "ready","timestamp": "12312312313"}' && sleep 20; done`,
        ],
        requests: { memory: "20Mi", cpu: "10m" },
        limits: { memory: "20Mi", cpu: "10m" },
        ports: [{ name: "default", protocol: "tcp", port: 80 }],
      },
    ],
  },
});

describe("Maestro's seed example room (curl loop)", () => {
  let insecure: MaestroProcess;
  let secure: MaestroProcess;
  beforeAll(async () => {
    [insecure, secure] = await Promise.all([startMaestroProcess(["--insecure-rooms-api"]), startMaestroProcess()]);
  });
  afterAll(async () => {
    await Promise.all([insecure?.stop(), secure?.stop()]);
  });

  it("becomes ready with --insecure-rooms-api", async () => {
    expect((await api(insecure.managementUrl, "POST", "/schedulers", seedScheduler("seed-room"))).status).toBe(200);
    const room = await waitFor(async () => {
      const rooms = (await api(insecure.managementUrl, "GET", "/schedulers/seed-room/rooms")).json.rooms;
      return rooms?.find((r: { status: string }) => r.status === "ready");
    }, "the curl room to become ready");
    expect(room).toMatchObject({ pingStatus: "ready", schedulerName: "seed-room" });
  });

  it("is refused without the switch: its pings carry no room token", async () => {
    expect((await api(secure.managementUrl, "POST", "/schedulers", seedScheduler("seed-secure"))).status).toBe(200);
    const rooms = await waitFor(async () => {
      const r = (await api(secure.managementUrl, "GET", "/schedulers/seed-secure/rooms")).json.rooms;
      return r?.length === 1 && r[0].host ? r : undefined;
    }, "the room to start");
    // curl prints the rooms API's answer into the room's log: wait for the refusal, then check nothing changed.
    const log = join(secure.dataDir, "rooms", "seed-secure", rooms[0].id, "room.log");
    const refusal = await waitFor(async () => {
      const text = await readFile(log, "utf8").catch(() => "");
      return text.includes("MAESTRO_ROOM_TOKEN") ? text : undefined;
    }, "the rooms API to refuse the unauthenticated ping");
    expect(refusal).toContain('"code":16');
    const room = (await api(secure.managementUrl, "GET", `/schedulers/seed-secure/rooms/${rooms[0].id}`)).json.room;
    expect(room.pingStatus).toBe("unknown");
    expect(room.status).not.toBe("ready");
  });
});
