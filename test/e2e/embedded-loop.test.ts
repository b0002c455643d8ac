import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, gameRoomPath, type MaestroProcess, startMaestroProcess, waitFor } from "../support/maestro-process.js";
import { envOf, roomPids } from "../support/processes.js";

interface Room {
  id: string;
  status: string;
  ports: { name: string; port: number }[];
}

const SCHEDULER = "e2e-game";

/**
 * The whole loop on the embedded default, as a user runs it: `maestro start`, a scheduler running the example game
 * room, three rooms ready, one room process killed and replaced, the scheduler deleted and no process left behind.
 */
describe("embedded default: scheduler of example game rooms", () => {
  let maestro: MaestroProcess;
  const rooms = async (): Promise<Room[]> =>
    (await api(maestro.managementUrl, "GET", `/schedulers/${SCHEDULER}/rooms`)).json.rooms;
  const readyRooms = async () => (await rooms()).filter((r) => r.status === "ready");

  beforeAll(async () => {
    expect(existsSync(gameRoomPath), "examples/game-room must be built").toBe(true);
    maestro = await startMaestroProcess(["--set", "workers.healthControllerIntervalMs=1000"]);
  });
  afterAll(async () => {
    await maestro?.stop();
    expect(roomPids(maestro.roomsUrl, SCHEDULER)).toEqual([]);
  });

  it("keeps 3 rooms ready, replaces a killed one, and cleans everything on delete", async () => {
    const create = await api(maestro.managementUrl, "POST", "/schedulers", {
      name: SCHEDULER,
      game: "e2e",
      maxSurge: "10%",
      roomsReplicas: 3,
      portRange: { start: 42000, end: 42999 },
      spec: {
        terminationGracePeriod: "5",
        containers: [
          {
            name: "game-room",
            image: "local",
            imagePullPolicy: "IfNotPresent",
            command: [process.execPath, gameRoomPath],
            environment: [{ name: "GAME_LOG_PREFIX", value: "e2e" }],
            requests: { memory: "64Mi", cpu: "100m" },
            limits: { memory: "128Mi", cpu: "200m" },
            ports: [{ name: "game", protocol: "tcp", port: 7000 }],
          },
        ],
      },
    });
    expect(create.status, JSON.stringify(create.json)).toBe(200);

    const ready = await waitFor(async () => {
      const r = await readyRooms();
      return r.length === 3 ? r : undefined;
    }, "3 ready rooms");
    const info = await api(maestro.managementUrl, "GET", "/schedulers/info?game=e2e");
    expect(info.json.schedulers[0]).toMatchObject({ name: SCHEDULER, state: "in-sync", roomsReady: 3 });
    const hostPorts = ready.map((r) => r.ports[0]!.port);
    expect(new Set(hostPorts).size).toBe(3);
    for (const port of hostPorts) expect(port >= 42000 && port <= 42999).toBe(true);

    const pids = roomPids(maestro.roomsUrl, SCHEDULER);
    expect(pids.length).toBeGreaterThanOrEqual(3);
    const victimPid = pids[0]!;
    const victimRoom = envOf(victimPid).MAESTRO_ROOM_ID!;
    expect(ready.map((r) => r.id)).toContain(victimRoom);
    process.kill(victimPid, "SIGKILL");

    const replaced = await waitFor(async () => {
      const r = await readyRooms();
      return r.length === 3 && !r.some((room) => room.id === victimRoom) ? r : undefined;
    }, "the killed room to be replaced by a new ready room");
    expect(replaced.map((r) => r.id)).not.toContain(victimRoom);
    expect((await rooms()).some((r) => r.id === victimRoom)).toBe(false);

    const del = await api(maestro.managementUrl, "DELETE", `/schedulers/${SCHEDULER}`);
    expect(del.status).toBe(200);
    await waitFor(
      async () => (await api(maestro.managementUrl, "GET", `/schedulers/${SCHEDULER}`)).status === 404,
      "scheduler gone",
    );
    await waitFor(async () => roomPids(maestro.roomsUrl, SCHEDULER).length === 0, "no room process left");
  });
});
