import { once } from "node:events";
import { createServer, type Http2Server, type ServerHttp2Session } from "node:http2";
import type { AddressInfo } from "node:net";
import { toJson } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import {
  GRPCForwarder,
  PlayerEventSchema,
  type Response,
  RoomEventSchema,
  RoomInfoSchema,
  RoomStatusSchema,
} from "@maestro/proto/eventforwarder";

export type ForwarderMethod =
  | "sendRoomInfo"
  | "sendRoomStatus"
  | "sendRoomPing"
  | "sendRoomResync"
  | "sendRoomEvent"
  | "sendPlayerEvent";

/** One call a matchmaker received, its message in protobuf JSON (what Maestro's matchmakers log and test against). */
export interface ReceivedCall {
  method: ForwarderMethod;
  message: Record<string, unknown>;
}

/** How the receiver answers; the default is `{ code: 200 }` at once. */
export type Answer = (call: ReceivedCall, ctx: HandlerContext) => Promise<Partial<Response>> | Partial<Response>;

export interface GrpcForwarderReceiver {
  /** host:port, as a scheduler's `forwarders[].address`. */
  address: string;
  calls: ReceivedCall[];
  /** HTTP/2 connections accepted so far. */
  sessions: number;
  answer: Answer;
  close(): Promise<void>;
}

/**
 * A matchmaker-side eventforwarder.GRPCForwarder server (HTTP/2, gRPC) that records every call: for tests of
 * forwarding, here and in matchmakers built for Maestro.
 */
export async function startGrpcForwarderReceiver(port = 0): Promise<GrpcForwarderReceiver> {
  const receiver: GrpcForwarderReceiver = {
    address: "",
    calls: [],
    sessions: 0,
    answer: () => ({ code: 200 }),
    close: async () => {},
  };
  const handle = async (call: ReceivedCall, ctx: HandlerContext) => {
    receiver.calls.push(call);
    return { code: 200, message: "", ...(await receiver.answer(call, ctx)) };
  };
  const handler = connectNodeAdapter({
    grpc: true,
    connect: false,
    grpcWeb: false,
    routes: (router) =>
      router.service(GRPCForwarder, {
        sendRoomInfo: (m, ctx) =>
          handle(
            { method: "sendRoomInfo", message: json(toJson(RoomInfoSchema, m, { alwaysEmitImplicit: true })) },
            ctx,
          ),
        sendRoomStatus: (m, ctx) =>
          handle(
            { method: "sendRoomStatus", message: json(toJson(RoomStatusSchema, m, { alwaysEmitImplicit: true })) },
            ctx,
          ),
        sendRoomPing: (m, ctx) =>
          handle(
            { method: "sendRoomPing", message: json(toJson(RoomStatusSchema, m, { alwaysEmitImplicit: true })) },
            ctx,
          ),
        sendRoomResync: (m, ctx) =>
          handle(
            { method: "sendRoomResync", message: json(toJson(RoomStatusSchema, m, { alwaysEmitImplicit: true })) },
            ctx,
          ),
        sendRoomEvent: (m, ctx) =>
          handle(
            { method: "sendRoomEvent", message: json(toJson(RoomEventSchema, m, { alwaysEmitImplicit: true })) },
            ctx,
          ),
        sendPlayerEvent: (m, ctx) =>
          handle(
            { method: "sendPlayerEvent", message: json(toJson(PlayerEventSchema, m, { alwaysEmitImplicit: true })) },
            ctx,
          ),
      }),
  });
  const server: Http2Server = createServer(handler);
  const open = new Set<ServerHttp2Session>();
  server.on("session", (session: ServerHttp2Session) => {
    receiver.sessions++;
    open.add(session);
    session.on("close", () => open.delete(session));
  });
  server.listen(port, "127.0.0.1");
  await once(server, "listening");
  receiver.address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  receiver.close = async () => {
    for (const s of open) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return receiver;
}

/** An answer that fails the call at the transport level, as a broken matchmaker would. */
export function failWith(code: Code = Code.Internal, message = "matchmaker failure"): never {
  throw new ConnectError(message, code);
}

function json(value: unknown): Record<string, unknown> {
  return value as Record<string, unknown>;
}
