import { once } from "node:events";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/free-port.js";
import {
  eventually,
  http,
  pingingSchedulerBody,
  schedulerBody,
  startTestMaestro,
  type TestMaestro,
} from "../support/test-maestro.js";

// The plugins load from their sources, so these tests need no build of the plugin packages (which depend on the
// server). For the same reason the matchmaker-side receiver of @maestro/forwarder-grpc/testing is imported by path,
// with the slice of its types used here.
const grpcPlugin = fileURLToPath(new URL("../../../forwarder-plugins/grpc/src/index.ts", import.meta.url));
const webhookPlugin = fileURLToPath(new URL("../../../forwarder-plugins/webhook/src/index.ts", import.meta.url));
const grpcTesting = fileURLToPath(new URL("../../../forwarder-plugins/grpc/src/testing.ts", import.meta.url));

interface ReceivedCall {
  method: "sendRoomStatus" | "sendRoomResync" | "sendRoomEvent" | "sendPlayerEvent" | "sendRoomInfo" | "sendRoomPing";
  message: Record<string, any>;
}
interface GrpcForwarderReceiver {
  address: string;
  calls: ReceivedCall[];
  answer: () => { code: number; message?: string } | never;
  close(): Promise<void>;
}
const { startGrpcForwarderReceiver, failWith } = (await import(grpcTesting)) as {
  startGrpcForwarderReceiver(): Promise<GrpcForwarderReceiver>;
  failWith(): never;
};

/** One call to each rooms API endpoint that can forward: method, path under the room, body. */
const EVERY_ENDPOINT = [
  ["PUT", "ping", { status: "ready" }],
  ["POST", "roomevent", { event: "x" }],
  ["POST", "playerevent", { event: "playerJoin", metadata: { playerId: "p" } }],
  ["PUT", "status", { status: "ready" }],
] as const;

function grpcForwarder(address: string, extra: Record<string, unknown> = {}) {
  return {
    name: "matchmaker",
    enable: true,
    type: "gRPC",
    address,
    options: { timeout: 1000, metadata: { roomType: "green" } },
    ...extra,
  };
}

async function roomOf(maestro: TestMaestro, scheduler: string, body: Record<string, unknown>) {
  expect((await http(maestro.managementUrl, "POST", "/schedulers", schedulerBody(scheduler, body))).status).toBe(200);
  return eventually(
    async () => {
      const rooms = (await http(maestro.managementUrl, "GET", `/schedulers/${scheduler}/rooms`)).json.rooms ?? [];
      return rooms.find((r: { status: string }) => r.status !== "pending") as { id: string } | undefined;
    },
    { what: `a started room of ${scheduler}` },
  );
}

const callsFor = (receiver: GrpcForwarderReceiver, roomId: string, method?: ReceivedCall["method"]) =>
  receiver.calls.filter(
    (c) => (c.message.room as { roomId?: string } | undefined)?.roomId === roomId && (!method || c.method === method),
  );

describe("events forwarding through the rooms API (Maestro's events_forwarding scenarios)", () => {
  let maestro: TestMaestro;
  let receiver: GrpcForwarderReceiver;
  let room: string;
  const base = (scheduler: string, roomId: string) => `/scheduler/${scheduler}/rooms/${roomId}`;

  beforeAll(async () => {
    receiver = await startGrpcForwarderReceiver();
    maestro = await startTestMaestro({ "roomsApi.roomTokens": false, plugins: `${grpcPlugin},${webhookPlugin}` });
    room = (await roomOf(maestro, "fwd-grpc", { roomsReplicas: 1, forwarders: [grpcForwarder(receiver.address)] })).id;
  });
  afterAll(async () => {
    await maestro?.stop();
    await receiver?.close();
  });

  it("ping: answers success and sends SendRoomResync with the room's address and metadata", async () => {
    const ping = await http(maestro.roomsUrl, "PUT", `${base("fwd-grpc", room)}/ping`, {
      status: "ready",
      timestamp: "12312312313",
      metadata: { map: "desert" },
    });
    expect(ping).toEqual({ status: 200, json: { success: true } });
    const [resync] = await eventually(() => {
      const calls = callsFor(receiver, room, "sendRoomResync");
      return calls.length > 0 && calls;
    });
    const instance = await maestro.context.instances.getInstance("fwd-grpc", room);
    const port = instance?.address?.ports[0];
    expect(resync?.message).toEqual({
      statusType: "ready",
      room: {
        game: "test-game",
        roomId: room,
        host: "127.0.0.1",
        port: port?.port,
        roomType: "green",
        metadata: {
          roomType: "green",
          map: "desert",
          eventType: "resync",
          pingType: "ready",
          ports: JSON.stringify([{ name: "game", port: port?.port, protocol: "tcp" }]),
        },
      },
    });
  });

  it("room event: success and SendRoomEvent", async () => {
    const res = await http(maestro.roomsUrl, "POST", `${base("fwd-grpc", room)}/roomevent`, {
      event: "matchStarted",
      timestamp: 1,
      metadata: { round: 1 },
    });
    expect(res).toEqual({ status: 200, json: { success: true, message: "" } });
    const [event] = callsFor(receiver, room, "sendRoomEvent");
    expect(event?.message).toMatchObject({
      eventType: "matchStarted",
      room: { roomId: room, metadata: { round: "1", roomEvent: "matchStarted", roomType: "green" } },
    });
  });

  it("player event: success and SendPlayerEvent; playerId is required", async () => {
    const res = await http(maestro.roomsUrl, "POST", `${base("fwd-grpc", room)}/playerevent`, {
      event: "playerJoin",
      metadata: { playerId: "p-1" },
    });
    expect(res).toEqual({ status: 200, json: { success: true, message: "" } });
    const [event] = callsFor(receiver, room, "sendPlayerEvent");
    expect(event?.message).toMatchObject({
      playerId: "p-1",
      eventType: "PLAYER_JOINED",
      metadata: { playerId: "p-1", eventType: "playerJoin", roomType: "green" },
    });

    const missing = await http(maestro.roomsUrl, "POST", `${base("fwd-grpc", room)}/playerevent`, {
      event: "playerJoin",
      metadata: {},
    });
    expect(missing.status).toBe(400);
    expect(missing.json.message).toContain("metadata.playerId");
    const badEvent = await http(maestro.roomsUrl, "POST", `${base("fwd-grpc", room)}/playerevent`, {
      event: "playerSpawned",
      metadata: { playerId: "p-1" },
    });
    expect(badEvent.status).toBe(400);
    expect(badEvent.json.message).toContain("event: must be one of playerJoin, playerLeft");
  });

  it("status (deprecated): forwards SendRoomStatus and changes nothing", async () => {
    const before = (await http(maestro.managementUrl, "GET", `/schedulers/fwd-grpc/rooms/${room}`)).json.room;
    const res = await http(maestro.roomsUrl, "PUT", `${base("fwd-grpc", room)}/status`, {
      status: "occupied",
      timestamp: 1,
    });
    expect(res).toEqual({ status: 200, json: { success: true } });
    expect(callsFor(receiver, room, "sendRoomStatus").map((c) => c.message.statusType)).toEqual(["occupied"]);
    const after = (await http(maestro.managementUrl, "GET", `/schedulers/fwd-grpc/rooms/${room}`)).json.room;
    expect(after.status).toBe(before.status);
  });

  it("gRPC error: room and player events report failure, the ping still succeeds", async () => {
    receiver.answer = () => failWith();
    try {
      const event = await http(maestro.roomsUrl, "POST", `${base("fwd-grpc", room)}/roomevent`, { event: "x" });
      expect(event.status).toBe(200);
      expect(event.json.success).toBe(false);
      expect(event.json.message).toContain("matchmaker failure");
      const player = await http(maestro.roomsUrl, "POST", `${base("fwd-grpc", room)}/playerevent`, {
        event: "playerLeft",
        metadata: { playerId: "p-1" },
      });
      expect(player.json).toMatchObject({ success: false });
      const ping = await http(maestro.roomsUrl, "PUT", `${base("fwd-grpc", room)}/ping`, { status: "ready" });
      expect(ping).toEqual({ status: 200, json: { success: true } });
    } finally {
      receiver.answer = () => ({ code: 200 });
    }
  });

  it("an error code in the matchmaker's answer still counts as delivered (as Maestro)", async () => {
    receiver.answer = () => ({ code: 500, message: "room unknown to me" });
    try {
      const event = await http(maestro.roomsUrl, "POST", `${base("fwd-grpc", room)}/roomevent`, { event: "x" });
      expect(event.json).toEqual({ success: true, message: "" });
    } finally {
      receiver.answer = () => ({ code: 200 });
    }
  });

  it("unknown room: 404 on every endpoint", async () => {
    for (const [method, path, body] of EVERY_ENDPOINT) {
      const res = await http(maestro.roomsUrl, method, `${base("fwd-grpc", "no-such-room")}/${path}`, body);
      expect([path, res.status]).toEqual([path, 404]);
    }
  });

  it("unreachable forwarder: events fail, pings succeed", async () => {
    const closed = await freePort();
    const id = (
      await roomOf(maestro, "fwd-down", { roomsReplicas: 1, forwarders: [grpcForwarder(`127.0.0.1:${closed}`)] })
    ).id;
    const event = await http(maestro.roomsUrl, "POST", `${base("fwd-down", id)}/roomevent`, { event: "x" });
    expect(event.json.success).toBe(false);
    expect(event.json.message).toMatch(/matchmaker/);
    const ping = await http(maestro.roomsUrl, "PUT", `${base("fwd-down", id)}/ping`, { status: "ready" });
    expect(ping).toEqual({ status: 200, json: { success: true } });
  });

  it("without forwarder: every event succeeds and nothing is sent", async () => {
    const id = (await roomOf(maestro, "fwd-none", { roomsReplicas: 1 })).id;
    for (const [method, path, body] of EVERY_ENDPOINT) {
      const res = await http(maestro.roomsUrl, method, `${base("fwd-none", id)}/${path}`, body);
      expect([path, res.status, res.json.success]).toEqual([path, 200, true]);
    }
    expect(callsFor(receiver, id)).toEqual([]);
  });

  it("refuses a forwarder type no plugin provides, and an address its plugin refuses, naming the field", async () => {
    for (const [name, type, message] of [
      ["fwd-bad-type", "kafka", "forwarders[0].type: must be one of gRPC, webhook"],
      ["fwd-bad-url", "webhook", "forwarders[0].address: must be an http:// or https:// URL"],
    ] as const) {
      const body = schedulerBody(name, { forwarders: [grpcForwarder("mm:9090", { type })] });
      const res = await http(maestro.managementUrl, "POST", "/schedulers", body);
      expect([name, res.status]).toEqual([name, 400]);
      expect(res.json.message).toContain(message);
    }
    const patch = await http(maestro.managementUrl, "PATCH", "/schedulers/fwd-grpc", {
      forwarders: [grpcForwarder("mm:9090", { type: "kafka" })],
    });
    expect(patch.status).toBe(400);
    expect(patch.json.message).toContain("forwarders[0].type");
  });

  it("webhook forwarder: the receiver gets the event as JSON with an idempotency key", async () => {
    const bodies: { headers: IncomingMessage["headers"]; body: Record<string, unknown> }[] = [];
    const server: Server = createServer(async (req, res) => {
      let body = "";
      for await (const chunk of req) body += chunk;
      bodies.push({ headers: req.headers, body: JSON.parse(body) });
      res.writeHead(204).end();
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
      const id = (
        await roomOf(maestro, "fwd-hook", {
          roomsReplicas: 1,
          forwarders: [{ name: "hook", enable: true, type: "webhook", address: url }],
        })
      ).id;
      const res = await http(maestro.roomsUrl, "POST", `${base("fwd-hook", id)}/roomevent`, { event: "goal" });
      expect(res.json).toEqual({ success: true, message: "" });
      const got = bodies.find((b) => b.body.event === "roomEvent");
      expect(got?.headers["idempotency-key"]).toBe(got?.body.id);
      expect(got?.body.message).toMatchObject({ eventType: "goal", room: { roomId: id, game: "test-game" } });
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it("a room removed by a scale-down is forwarded as terminated", async () => {
    const patch = await http(maestro.managementUrl, "PATCH", "/schedulers/fwd-grpc", { roomsReplicas: 0 });
    expect(patch.status).toBe(200);
    const terminated = await eventually(
      () => callsFor(receiver, room, "sendRoomStatus").find((c) => c.message.statusType === "terminated") ?? undefined,
      { what: "a terminated status" },
    );
    expect(terminated.message).toMatchObject({ room: { roomId: room, game: "test-game", roomType: "green" } });
  });
});

describe("forwarders added by a new version take effect at once", () => {
  let maestro: TestMaestro;
  let receiver: GrpcForwarderReceiver;
  beforeAll(async () => {
    receiver = await startGrpcForwarderReceiver();
    maestro = await startTestMaestro({
      "roomsApi.roomTokens": false,
      plugins: grpcPlugin,
      "rooms.validationTimeoutMs": 10_000,
    });
  });
  afterAll(async () => {
    await maestro?.stop();
    await receiver?.close();
  });

  it("the cached scheduler is dropped when the active version changes", async () => {
    const pinging = pingingSchedulerBody("fwd-version", { roomsReplicas: 1 });
    expect((await http(maestro.managementUrl, "POST", "/schedulers", pinging)).status).toBe(200);
    const readyRoom = async () =>
      eventually(async () => {
        const rooms = (await http(maestro.managementUrl, "GET", "/schedulers/fwd-version/rooms")).json.rooms ?? [];
        return rooms.find((r: { status: string; isValidationRoom?: boolean }) => r.status === "ready") as
          | { id: string }
          | undefined;
      });
    // The first event loads the scheduler (no forwarders) into the rooms API's cache.
    const first = await readyRoom();
    const before = await http(maestro.roomsUrl, "POST", `/scheduler/fwd-version/rooms/${first.id}/roomevent`, {
      event: "before",
    });
    expect(before.json).toEqual({ success: true, message: "" });

    const patch = await http(maestro.managementUrl, "PATCH", "/schedulers/fwd-version", {
      forwarders: [grpcForwarder(receiver.address)],
    });
    expect(patch.status).toBe(200);
    await eventually(async () => {
      const s = (await http(maestro.managementUrl, "GET", "/schedulers/fwd-version")).json.scheduler;
      return s?.forwarders?.length === 1;
    });

    // One attempt, no polling: a cache still holding the old version would send nothing and still answer success.
    let delivered: ReceivedCall | undefined;
    for (let attempt = 0; attempt < 5 && !delivered; attempt++) {
      const { id } = await readyRoom();
      const res = await http(maestro.roomsUrl, "POST", `/scheduler/fwd-version/rooms/${id}/roomevent`, {
        event: "after",
      });
      if (res.status === 404) continue; // replaced by the rolling update meanwhile
      expect(res.json).toEqual({ success: true, message: "" });
      delivered = callsFor(receiver, id, "sendRoomEvent").find((c) => c.message.eventType === "after");
      expect(delivered).toBeDefined();
    }
    expect(delivered).toBeDefined();
    expect(receiver.calls.some((c) => c.message.eventType === "before")).toBe(false);
  });
});

describe("event endpoints check the room's token as pings do", () => {
  let maestro: TestMaestro;
  beforeAll(async () => {
    maestro = await startTestMaestro({ plugins: grpcPlugin });
  });
  afterAll(async () => maestro?.stop());

  it("refuses an event without the room's token and accepts it with", async () => {
    const id = (await roomOf(maestro, "fwd-tokens", { roomsReplicas: 1 })).id;
    const token = maestro.context.tokens.tokenFor("fwd-tokens", id);
    for (const [method, path, body] of [
      ["POST", "roomevent", { event: "x" }],
      ["POST", "playerevent", { event: "playerJoin", metadata: { playerId: "p" } }],
      ["PUT", "status", { status: "ready" }],
    ] as const) {
      const url = `/scheduler/fwd-tokens/rooms/${id}/${path}`;
      expect([path, (await http(maestro.roomsUrl, method, url, body)).status]).toEqual([path, 401]);
      const ok = await http(maestro.roomsUrl, method, url, body, { authorization: `Bearer ${token}` });
      expect([path, ok.status, ok.json.success]).toEqual([path, 200, true]);
    }
  });
});
