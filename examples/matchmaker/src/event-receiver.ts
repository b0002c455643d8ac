import { once } from "node:events";
import { createServer, type Http2Session } from "node:http2";
import type { AddressInfo } from "node:net";
import { create, type MessageShape, toJson } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import {
  GRPCForwarder,
  PlayerEvent_PlayerEventType,
  PlayerEventSchema,
  ResponseSchema,
  type Room,
  RoomEventSchema,
  RoomInfoSchema,
  RoomStatus_RoomStatusType,
  RoomStatusSchema,
} from "@maestro/proto/eventforwarder";

// Enum zero values (ready, PLAYER_JOINED) and empty fields are shown too: a reader should not have to know defaults.
const ALL_FIELDS = { alwaysEmitImplicit: true } as const;

/** Which GRPCForwarder method delivered the event. */
export type ForwardedEventKind = "roomStatus" | "roomResync" | "roomPing" | "roomEvent" | "playerEvent" | "roomInfo";

export interface ForwardedEvent {
  kind: ForwardedEventKind;
  receivedAt: Date;
  /** Empty for roomInfo, which is about a room type rather than a room. */
  roomId: string;
  game: string;
  /** One line for humans, e.g. `roomEvent match-started room=my-game-x1 {"map":"dust"}`. */
  summary: string;
  /** The request as protobuf JSON. */
  message: Record<string, unknown>;
}

export interface EventReceiverOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** @defaultValue "127.0.0.1" */
  host?: string;
  /** Called for every event as it arrives, after it was recorded. */
  onEvent?: (event: ForwardedEvent) => void;
}

export interface EventReceiver {
  /** `host:port`, the form a scheduler's forwarder `address` takes. */
  readonly address: string;
  readonly port: number;
  /** Every event received, in arrival order. */
  readonly events: readonly ForwardedEvent[];
  /** Resolves with the first event (already received or future) matching `predicate`. */
  waitFor(
    predicate: (event: ForwardedEvent) => boolean,
    options?: { timeoutMs?: number; signal?: AbortSignal },
  ): Promise<ForwardedEvent>;
  close(): Promise<void>;
}

/**
 * A matchmaker's side of Maestro's event forwarding: a gRPC server (HTTP/2 without TLS, as Maestro's forwarder
 * dials it) implementing `eventforwarder.GRPCForwarder`. It answers every call with `{code: 200}`, which Maestro reads
 * as delivered, and keeps what it received.
 */
export async function startEventReceiver(options: EventReceiverOptions = {}): Promise<EventReceiver> {
  const events: ForwardedEvent[] = [];
  const waiters = new Set<(event: ForwardedEvent) => void>();
  const record = (event: Omit<ForwardedEvent, "receivedAt">): MessageShape<typeof ResponseSchema> => {
    const full = { ...event, receivedAt: new Date() };
    events.push(full);
    for (const waiter of waiters) waiter(full);
    options.onEvent?.(full);
    return create(ResponseSchema, { code: 200, message: "ok" });
  };

  const routes = (router: ConnectRouter): void => {
    router.service(GRPCForwarder, {
      sendRoomStatus: (req) =>
        record(roomStatusEvent("roomStatus", req.room, req.statusType, toJson(RoomStatusSchema, req, ALL_FIELDS))),
      sendRoomResync: (req) =>
        record(roomStatusEvent("roomResync", req.room, req.statusType, toJson(RoomStatusSchema, req, ALL_FIELDS))),
      sendRoomPing: (req) =>
        record(roomStatusEvent("roomPing", req.room, req.statusType, toJson(RoomStatusSchema, req, ALL_FIELDS))),
      sendRoomEvent: (req) =>
        record({
          kind: "roomEvent",
          roomId: req.room?.roomId ?? "",
          game: req.room?.game ?? "",
          summary: `roomEvent ${req.eventType} room=${req.room?.roomId ?? "?"} ${JSON.stringify(req.metadata)}`,
          message: asObject(toJson(RoomEventSchema, req, ALL_FIELDS)),
        }),
      sendPlayerEvent: (req) =>
        record({
          kind: "playerEvent",
          roomId: req.room?.roomId ?? "",
          game: req.room?.game ?? "",
          summary: `playerEvent ${PlayerEvent_PlayerEventType[req.eventType] ?? req.eventType} player=${req.playerId} room=${req.room?.roomId ?? "?"}`,
          message: asObject(toJson(PlayerEventSchema, req, ALL_FIELDS)),
        }),
      sendRoomInfo: (req) =>
        record({
          kind: "roomInfo",
          roomId: "",
          game: req.game,
          summary: `roomInfo game=${req.game} roomType=${req.roomType}`,
          message: asObject(toJson(RoomInfoSchema, req, ALL_FIELDS)),
        }),
    });
  };

  const server = createServer(connectNodeAdapter({ routes, grpc: true, grpcWeb: false, connect: false }));
  // Maestro keeps its connection open; close() must end those sessions or it would wait for them forever.
  const sessions = new Set<Http2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  const host = options.host ?? "127.0.0.1";
  server.listen(options.port ?? 0, host);
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;

  return {
    address: `${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    events,
    waitFor(predicate, { timeoutMs = 10_000, signal } = {}) {
      const seen = events.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise<ForwardedEvent>((resolve, reject) => {
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(waiter);
          signal?.removeEventListener("abort", onAbort);
        };
        const waiter = (event: ForwardedEvent): void => {
          if (!predicate(event)) return;
          cleanup();
          resolve(event);
        };
        const onAbort = (): void => {
          cleanup();
          reject(signal?.reason);
        };
        const timer = setTimeout(() => {
          cleanup();
          const seenKinds = events.map((e) => e.kind).join(", ") || "none";
          reject(new Error(`no matching forwarded event within ${timeoutMs} ms (received: ${seenKinds})`));
        }, timeoutMs);
        waiters.add(waiter);
        if (signal?.aborted) onAbort();
        else signal?.addEventListener("abort", onAbort, { once: true });
      });
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const session of sessions) session.close();
      await closed;
    },
  };
}

function roomStatusEvent(
  kind: "roomStatus" | "roomResync" | "roomPing",
  room: Room | undefined,
  statusType: RoomStatus_RoomStatusType,
  json: unknown,
): Omit<ForwardedEvent, "receivedAt"> {
  const status = RoomStatus_RoomStatusType[statusType] ?? String(statusType);
  const where = room?.host ? ` at ${room.host}:${room.port}` : "";
  return {
    kind,
    roomId: room?.roomId ?? "",
    game: room?.game ?? "",
    summary: `${kind} ${status} room=${room?.roomId ?? "?"}${where}`,
    message: asObject(json),
  };
}

function asObject(json: unknown): Record<string, unknown> {
  return typeof json === "object" && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : {};
}
