import { existsSync } from "node:fs";
import { join } from "node:path";
import { roomScenarios } from "../scenarios/room-scenarios.js";
import { processesWithEnv } from "../support/room-processes.js";
import { PINGING_ROOM, startTestMaestro, type TestMaestro } from "../support/test-maestro.js";

/**
 * The room processes of one scheduler of this Maestro: same scheduler name and a room token this Maestro signed, so
 * rooms of another test's Maestro on the machine never count.
 */
function roomProcesses(maestro: TestMaestro, scheduler: string) {
  return processesWithEnv({ MAESTRO_SCHEDULER_NAME: scheduler }).filter(
    (p) =>
      p.env.MAESTRO_ROOM_ID !== undefined &&
      p.env.MAESTRO_ROOM_TOKEN === maestro.context.tokens.tokenFor(scheduler, p.env.MAESTRO_ROOM_ID),
  );
}

/** The shared room scenarios on the embedded default: rooms are child processes that ping the rooms API themselves. */
roomScenarios("room scenarios on the process runtime", {
  prefix: "proc",
  rooms: 2,
  roomsPingThemselves: true,
  wait: { timeoutMs: 30_000, intervalMs: 100 },
  start: () =>
    startTestMaestro({
      "workers.syncIntervalMs": 500,
      "workers.healthControllerIntervalMs": 500,
      "rooms.validationTimeoutMs": 20_000,
    }),
  container: (image) => ({
    name: "room",
    image,
    imagePullPolicy: "IfNotPresent",
    command: PINGING_ROOM,
    requests: { memory: "64Mi", cpu: "100m" },
    limits: { memory: "128Mi", cpu: "200m" },
    ports: [{ name: "game", protocol: "udp", port: 7000 }],
  }),
  brokenContainer: () => ({
    name: "room",
    image: "game:1",
    imagePullPolicy: "IfNotPresent",
    command: ["node", "-e", "console.error('no config, giving up'); process.exit(3)"],
    requests: { memory: "64Mi", cpu: "100m" },
    limits: { memory: "128Mi", cpu: "200m" },
    ports: [{ name: "game", protocol: "udp", port: 7000 }],
  }),
  brokenDescription: /^exit code 3: no config, giving up$/,
  liveRooms: async (maestro, scheduler) =>
    roomProcesses(maestro, scheduler).map((p) => ({ id: p.env.MAESTRO_ROOM_ID! })),
  killRoom: async (maestro, scheduler, roomId) => {
    const found = roomProcesses(maestro, scheduler).filter((p) => p.env.MAESTRO_ROOM_ID === roomId);
    if (found.length !== 1) throw new Error(`expected one process for room ${roomId}, found ${found.length}`);
    process.kill(found[0]!.pid, "SIGKILL");
  },
  // The process runtime keeps each scheduler's rooms (logs, pid files) under <dataDir>/rooms/<scheduler>.
  schedulerArtefactExists: async (maestro, scheduler) => existsSync(join(maestro.dataDir, "rooms", scheduler)),
});
