import { create } from "@bufbuild/protobuf";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import {
  GRPCForwarder,
  PlayerEvent_PlayerEventType,
  type Response,
  type Room,
  RoomSchema,
  RoomStatus_RoomStatusType,
} from "@maestro/proto/eventforwarder";
import type {
  ForwardCallOptions,
  ForwardedRoom,
  Forwarder,
  ForwarderClient,
  ForwarderContext,
  ForwarderPlugin,
  Logger,
  PlayerEventMessage,
  RoomEventMessage,
  RoomStatusMessage,
} from "@maestro/server/plugin";
import { responseCodeName } from "./response-code.js";

/** Maestro's forwarder type name. */
export const GRPC_FORWARDER_TYPE = "gRPC";

/** Maestro's effective deadline when a forwarder has no timeout. */
const DEFAULT_TIMEOUT_MS = 1000;

export interface GrpcForwarderOptions {
  /** HTTP/2 PING interval that keeps idle connections alive through load balancers (Maestro #625/#688). */
  keepAliveMs?: number;
  /** Closes a connection unused this long; the next event reconnects. */
  idleTimeoutMs?: number;
}

interface Connection {
  sessions: Http2SessionManager;
  client: Client<typeof GRPCForwarder>;
  users: number;
}

/**
 * The gRPC forwarder plugin. Every forwarder with the same address shares one HTTP/2 connection, kept alive with
 * PINGs and re-dialled transparently when it drops.
 */
export function grpcForwarderPlugin(options: GrpcForwarderOptions = {}): ForwarderPlugin {
  const connections = new Map<string, Connection>();
  const connect = (address: string): Connection => {
    let c = connections.get(address);
    if (!c) {
      const baseUrl = `http://${address}`;
      const sessions = new Http2SessionManager(baseUrl, {
        pingIntervalMs: options.keepAliveMs ?? 30_000,
        pingIdleConnection: true,
        pingTimeoutMs: 10_000,
        idleConnectionTimeoutMs: options.idleTimeoutMs ?? 15 * 60_000,
      });
      const transport = createGrpcTransport({ baseUrl, sessionManager: sessions });
      c = { sessions, client: createClient(GRPCForwarder, transport), users: 0 };
      connections.set(address, c);
    }
    c.users++;
    return c;
  };
  const release = (address: string) => {
    const c = connections.get(address);
    if (!c || --c.users > 0) return;
    connections.delete(address);
    c.sessions.abort();
  };

  return {
    type: GRPC_FORWARDER_TYPE,
    create(forwarder: Forwarder, ctx: ForwarderContext): ForwarderClient {
      const { client } = connect(forwarder.address);
      const timeoutMs =
        forwarder.options?.timeout && forwarder.options.timeout > 0 ? forwarder.options.timeout : DEFAULT_TIMEOUT_MS;
      const call = (opts: ForwardCallOptions) => ({ signal: opts.signal, timeoutMs });
      let closed = false;
      return {
        async roomResync(message: RoomStatusMessage, opts: ForwardCallOptions) {
          const res = await client.sendRoomResync(statusMessage(message), call(opts));
          report(ctx.logger, "SendRoomResync", res);
        },
        async roomStatus(message: RoomStatusMessage, opts: ForwardCallOptions) {
          const res = await client.sendRoomStatus(statusMessage(message), call(opts));
          report(ctx.logger, "SendRoomStatus", res);
        },
        async roomEvent(message: RoomEventMessage, opts: ForwardCallOptions) {
          const res = await client.sendRoomEvent(
            { room: room(message.room), eventType: message.eventType },
            call(opts),
          );
          report(ctx.logger, "SendRoomEvent", res);
        },
        async playerEvent(message: PlayerEventMessage, opts: ForwardCallOptions) {
          const res = await client.sendPlayerEvent(
            {
              playerId: message.playerId,
              room: create(RoomSchema, { game: message.room.game, roomId: message.room.roomId }),
              eventType:
                message.eventType === "playerLeft"
                  ? PlayerEvent_PlayerEventType.PLAYER_LEFT
                  : PlayerEvent_PlayerEventType.PLAYER_JOINED,
              metadata: message.metadata,
            },
            call(opts),
          );
          report(ctx.logger, "SendPlayerEvent", res);
        },
        async close() {
          if (closed) return;
          closed = true;
          release(forwarder.address);
        },
      };
    },
  };
}

function statusMessage(message: RoomStatusMessage) {
  return { room: room(message.room), statusType: RoomStatus_RoomStatusType[message.status] };
}

function room(r: ForwardedRoom): Room {
  return create(RoomSchema, {
    game: r.game,
    roomId: r.roomId,
    host: r.host,
    port: r.port,
    metadata: r.metadata,
    roomType: r.roomType,
  });
}

/** A receiver's error code is its business: logged, never a delivery failure (as Maestro). */
function report(logger: Logger, method: string, res: Response): void {
  const code = responseCodeName(res.code);
  if (code !== "OK")
    logger.debug({ method, code: res.code, grpcCode: code, message: res.message }, "matchmaker answered an error code");
}
