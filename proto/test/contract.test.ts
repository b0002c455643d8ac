import { type DescService, fromJson, getOption, type JsonObject, toJson } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { GRPCForwarder, RoomSchema } from "../src/eventforwarder.js";
import {
  CreateSchedulerRequestSchema,
  GameRoomsService,
  http,
  OperationsService,
  RoomsService,
  SchedulersService,
  UpdateRoomWithPingRequestSchema,
} from "../src/index.js";

type Verb = "get" | "put" | "post" | "delete" | "patch";
type Route = [rpc: string, verb: Verb, path: string, body: "" | "*"];

// Maestro's REST surface (reference §2.2–2.4) plus our additions (AddRooms/RemoveRooms bodies, GameRoomsService).
const routes: Array<[DescService, Route[]]> = [
  [
    SchedulersService,
    [
      ["ListSchedulers", "get", "/schedulers", ""],
      ["GetScheduler", "get", "/schedulers/{scheduler_name}", ""],
      ["CreateScheduler", "post", "/schedulers", "*"],
      ["NewSchedulerVersion", "post", "/schedulers/{name}", "*"],
      ["PatchScheduler", "patch", "/schedulers/{name}", "*"],
      ["GetSchedulerVersions", "get", "/schedulers/{scheduler_name}/versions", ""],
      ["SwitchActiveVersion", "put", "/schedulers/{scheduler_name}", "*"],
      ["GetSchedulersInfo", "get", "/schedulers/info", ""],
      ["DeleteScheduler", "delete", "/schedulers/{scheduler_name}", ""],
      ["AddRooms", "post", "/schedulers/{scheduler_name}/add-rooms", "*"],
      ["RemoveRooms", "post", "/schedulers/{scheduler_name}/remove-rooms", "*"],
    ],
  ],
  [
    OperationsService,
    [
      ["ListOperations", "get", "/schedulers/{scheduler_name}/operations", ""],
      ["CancelOperation", "post", "/schedulers/{scheduler_name}/operations/{operation_id}/cancel", ""],
      ["GetOperation", "get", "/schedulers/{scheduler_name}/operations/{operation_id}", ""],
    ],
  ],
  [
    RoomsService,
    [
      ["UpdateRoomWithPing", "put", "/scheduler/{scheduler_name}/rooms/{room_name}/ping", "*"],
      ["ForwardRoomEvent", "post", "/scheduler/{scheduler_name}/rooms/{room_name}/roomevent", "*"],
      ["ForwardPlayerEvent", "post", "/scheduler/{scheduler_name}/rooms/{room_name}/playerevent", "*"],
      ["UpdateRoomStatus", "put", "/scheduler/{scheduler_name}/rooms/{room_name}/status", "*"],
      ["GetRoomAddress", "get", "/scheduler/{scheduler_name}/rooms/{room_name}/address", ""],
      ["AllocateRoom", "post", "/scheduler/{scheduler_name}/rooms/allocate", "*"],
    ],
  ],
  [
    GameRoomsService,
    [
      ["ListRooms", "get", "/schedulers/{scheduler_name}/rooms", ""],
      ["GetRoom", "get", "/schedulers/{scheduler_name}/rooms/{room_id}", ""],
      ["GetRoomLog", "get", "/schedulers/{scheduler_name}/rooms/{room_id}/log", ""],
    ],
  ],
];

// Example create body of Maestro (test/data/handlers/fixtures/request/scheduler-config.json), camelCase.
const createBody: JsonObject = {
  name: "scheduler-name-1",
  game: "game-name",
  maxSurge: "10%",
  roomsReplicas: 6,
  portRange: { start: 1, end: 1000 },
  spec: {
    terminationGracePeriod: "100s",
    restartPolicy: "Never",
    toleration: "",
    affinity: "",
    containers: [
      {
        name: "c",
        image: "img",
        imagePullPolicy: "IfNotPresent",
        command: ["./run"],
        environment: [
          { name: "A", value: "v" },
          { name: "B", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
          { name: "C", valueFrom: { secretKeyRef: { name: "s", key: "k" } } },
        ],
        requests: { memory: "100Mi", cpu: "100m" },
        limits: { memory: "200Mi", cpu: "200m" },
        ports: [{ name: "port-name", protocol: "tcp", port: 12345 }],
      },
    ],
  },
  autoscaling: {
    enabled: true,
    min: 1,
    max: 10,
    cooldown: 60,
    policy: { type: "roomOccupancy", parameters: { roomOccupancy: { readyTarget: 0.5, downThreshold: 0.9 } } },
  },
  forwarders: [
    {
      name: "mm",
      enable: true,
      type: "gRPC",
      address: "host:9090",
      options: { timeout: 1000, metadata: { roomType: "green" } },
    },
  ],
  annotations: { k: "v" },
  labels: { k: "v" },
  matchAllocation: { maxMatches: 1 },
};

/** Every object key of a JSON value, with the maps whose keys are user data (labels, metadata...) skipped. */
function schemaKeys(value: unknown, userMaps: Set<string>): string[] {
  if (Array.isArray(value)) return value.flatMap((v) => schemaKeys(v, userMaps));
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([k, v]) => [k, ...(userMaps.has(k) ? [] : schemaKeys(v, userMaps))]);
}

describe("google.api.http rules", () => {
  for (const [service, table] of routes) {
    it(`${service.name} has exactly the expected RPCs`, () => {
      expect(service.methods.map((m) => m.name).sort()).toEqual(table.map(([rpc]) => rpc).sort());
    });

    for (const [rpc, verb, path, body] of table) {
      it(`${service.name}.${rpc} is ${verb.toUpperCase()} ${path}`, () => {
        const method = service.methods.find((m) => m.name === rpc);
        expect(method, `${rpc} missing`).toBeDefined();
        const rule = getOption(method!, http);
        expect({ verb: rule.pattern.case, path: rule.pattern.value, body: rule.body }).toEqual({ verb, path, body });
        // A path variable that names no request field would never reach the handler.
        const fields = new Set(method!.input.fields.map((f) => f.name));
        for (const [, variable] of path.matchAll(/\{(\w+)\}/g)) expect(fields).toContain(variable);
      });
    }
  }
});

describe("Maestro JSON bodies", () => {
  it("parses Maestro's create-scheduler body and writes it back camelCase", () => {
    const req = fromJson(CreateSchedulerRequestSchema, createBody, { ignoreUnknownFields: true });
    expect(req.spec?.terminationGracePeriod?.seconds).toBe(100n);
    expect(req.spec?.restartPolicy).toBe("Never");
    expect(req.spec?.containers[0]?.environment[1]?.valueFrom?.fieldRef?.fieldPath).toBe("metadata.name");
    expect(req.spec?.containers[0]?.environment[2]?.valueFrom?.secretKeyRef).toMatchObject({ name: "s", key: "k" });
    expect(req.spec?.containers[0]?.ports[0]).toMatchObject({ name: "port-name", protocol: "tcp", port: 12345 });
    expect(req.autoscaling?.policy?.parameters?.roomOccupancy).toMatchObject({ readyTarget: 0.5, downThreshold: 0.9 });
    expect(req.autoscaling?.cooldown).toBe(60);
    expect(req.forwarders[0]?.options?.timeout).toBe(1000n);
    expect(req.forwarders[0]?.options?.metadata).toEqual({ roomType: "green" });
    expect(req.matchAllocation?.maxMatches).toBe(1);
    expect(req.annotations).toEqual({ k: "v" });
    expect(req.occupiedTimeout).toBeUndefined();

    const json = toJson(CreateSchedulerRequestSchema, req) as Record<string, unknown>;
    expect(json).toMatchObject({
      maxSurge: "10%",
      roomsReplicas: 6,
      portRange: { start: 1, end: 1000 },
      matchAllocation: { maxMatches: 1 },
      spec: { terminationGracePeriod: "100s", restartPolicy: "Never" },
    });
    const keys = schemaKeys(json, new Set(["annotations", "labels", "metadata"]));
    expect(keys).toContain("imagePullPolicy");
    expect(keys.filter((k) => k.includes("_"))).toEqual([]);
  });

  it("parses a ping whose int64 timestamp is a string", () => {
    const ping = fromJson(
      UpdateRoomWithPingRequestSchema,
      { status: "ready", timestamp: "12312312313", scheduler_name: "s", room_name: "r" },
      { ignoreUnknownFields: true },
    );
    expect(ping).toMatchObject({ status: "ready", timestamp: 12312312313n, schedulerName: "s", roomName: "r" });
  });

  it("parses the snake_case ping of maestro-client", () => {
    const ping = fromJson(UpdateRoomWithPingRequestSchema, {
      timestamp: 1629834996,
      status: "occupied",
      running_matches: 1,
      metadata: { region: "eu" },
    });
    expect(ping).toMatchObject({ status: "occupied", timestamp: 1629834996n, runningMatches: 1n });
    expect(ping.metadata).toEqual({ region: "eu" });
  });
});

describe("eventforwarder", () => {
  it("keeps Maestro's forwarder RPCs and Room field numbers", () => {
    expect(GRPCForwarder.typeName).toBe("eventforwarder.GRPCForwarder");
    expect(GRPCForwarder.methods.map((m) => m.name)).toEqual([
      "SendRoomInfo",
      "SendRoomStatus",
      "SendRoomPing",
      "SendRoomResync",
      "SendRoomEvent",
      "SendPlayerEvent",
    ]);
    expect(RoomSchema.fields.map((f) => [f.name, f.number])).toEqual([
      ["game", 1],
      ["roomId", 2],
      ["host", 4],
      ["port", 5],
      ["metadata", 6],
      ["roomType", 7],
    ]);
  });
});
