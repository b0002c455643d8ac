import type { GameRoom, Instance, InstanceStatusType } from "../../src/core/entities/game-room.js";
import type { Container, Scheduler } from "../../src/core/entities/scheduler.js";

/** Objects merge key by key; arrays, dates and scalars replace; a key given as undefined removes the default. */
export type DeepPartial<T> = T extends Date
  ? T
  : T extends readonly unknown[]
    ? T
    : T extends object
      ? { [K in keyof T]?: DeepPartial<T[K]> }
      : T;

/** The command of the fixture's room: a Node process that idles until it is killed. */
export const IDLE_ROOM_COMMAND: readonly string[] = ["node", "-e", "setInterval(()=>{},1000)"];

/** A container that passes validation: one tcp port named "game" on container port 7000. */
export function validContainer(overrides: DeepPartial<Container> = {}): Container {
  const base: Container = {
    name: "game",
    image: "local",
    imagePullPolicy: "IfNotPresent",
    command: [...IDLE_ROOM_COMMAND],
    environment: [],
    requests: { memory: "64Mi", cpu: "100m" },
    limits: { memory: "256Mi", cpu: "500m" },
    ports: [{ name: "game", protocol: "tcp", port: 7000 }],
  };
  return merge(base, overrides);
}

/**
 * A scheduler that passes validateScheduler, with a fresh object graph on every call so tests can mutate it freely.
 * `validScheduler({ spec: { terminationGracePeriodSeconds: 1 } })` changes one nested field and keeps the rest.
 */
export function validScheduler(overrides: DeepPartial<Scheduler> = {}): Scheduler {
  const base: Scheduler = {
    name: "test-scheduler",
    game: "test-game",
    state: "creating",
    spec: {
      version: "v1.0.0",
      terminationGracePeriodSeconds: 5,
      containers: [validContainer()],
      toleration: "",
      affinity: "",
      restartPolicy: "Never",
    },
    portRange: { start: 20000, end: 20999 },
    maxSurge: "10%",
    roomsReplicas: 1,
    autoscaling: undefined,
    forwarders: [],
    annotations: {},
    labels: {},
    matchAllocation: { maxMatches: 1 },
    createdAt: new Date(),
  };
  return merge(base, overrides);
}

function merge<T>(base: T, overrides: NoInfer<DeepPartial<T>>): T {
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(overrides as Record<string, unknown>)) {
    const current = out[key];
    out[key] = isPlainObject(value) && isPlainObject(current) ? merge(current, value) : value;
  }
  return out as T;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x) && !(x instanceof Date);
}

/** A ready room pinging ready, as storage holds it; `now` is its creation and last ping. */
export function gameRoom(overrides: Partial<GameRoom> & { id: string }, now: Date = new Date()): GameRoom {
  return {
    schedulerName: "test-scheduler",
    version: "v1.0.0",
    status: "ready",
    pingStatus: "ready",
    metadata: {},
    isValidationRoom: false,
    runningMatches: 0,
    createdAt: now,
    lastPingAt: now,
    ...overrides,
  };
}

export function instanceOf(id: string, type: InstanceStatusType, schedulerName = "test-scheduler"): Instance {
  return { id, schedulerName, status: { type, description: type } };
}

/**
 * REST `autoscaling` of a fleet of 1–3 rooms scaled on CPU usage over requests (a room at half a core with 100m
 * requested is 500%): up above 50%, down below 20%, each for half of `timeSeconds`, `cooldownSeconds` apart.
 */
export function cpuAutoscaling(timeSeconds: number, cooldownSeconds: number): Record<string, unknown> {
  return {
    enabled: true,
    min: 1,
    max: 3,
    cooldown: 0,
    policy: {
      type: "metricsTriggers",
      parameters: {
        metricsTriggers: {
          up: {
            cooldown: cooldownSeconds,
            triggers: [{ type: "cpu", usage: 50, threshold: 50, time: timeSeconds, limit: 1000 }],
          },
          down: { cooldown: cooldownSeconds, triggers: [{ type: "cpu", usage: 20, threshold: 50, time: timeSeconds }] },
        },
      },
    },
  };
}
