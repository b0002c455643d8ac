import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { RoomsService } from "@maestro/proto";
import { MaestroError } from "../../core/errors.js";
import type { Clock } from "../../core/ports/clock.js";
import type { InstanceStorage, RoomStorage } from "../../core/ports/room-storage.js";
import type { RoomTokens } from "../../core/ports/room-token.js";
import type { SchedulerStorage } from "../../core/ports/scheduler-storage.js";
import { type PingRequestStatus, pingStatusesAccepted, type RoomManager } from "../../core/services/room-manager.js";
import { handle } from "../errors.js";

export interface RoomsServiceDeps {
  rooms: RoomStorage;
  clock: Clock;
  /** How long an allocation holds a room and an idempotency key is remembered. */
  allocationTtlMs: number;
  /** Read on every ping: pass a cache (SchedulerCache), not the database. */
  schedulers: Pick<SchedulerStorage, "getScheduler">;
  instances: InstanceStorage;
  roomManager: RoomManager;
  /** Undefined when the rooms API accepts unauthenticated rooms (Maestro-compatible mode). */
  tokens?: RoomTokens | undefined;
}

/** The API game rooms call. Events, status forwarding and allocation arrive with the rooms and forwarding work. */
export function roomsService(d: RoomsServiceDeps): Partial<ServiceImpl<typeof RoomsService>> {
  const authorize = (ctx: HandlerContext, schedulerName: string, roomId: string) => {
    if (!d.tokens) return;
    const header = ctx.requestHeader.get("authorization") ?? "";
    const token = header.startsWith("Bearer ") ? header.slice(7) : "";
    if (!token || !d.tokens.verify(schedulerName, roomId, token)) {
      throw new MaestroError(
        "unauthenticated",
        `room ${roomId} must send "Authorization: Bearer $MAESTRO_ROOM_TOKEN" (or start the server with --insecure-rooms-api)`,
      );
    }
  };
  return {
    updateRoomWithPing: (req, ctx) =>
      handle(async () => {
        authorize(ctx, req.schedulerName, req.roomName);
        if (!pingStatusesAccepted.includes(req.status as PingRequestStatus)) {
          throw MaestroError.invalid([
            { field: "status", message: `must be one of ${pingStatusesAccepted.join(", ")}` },
          ]);
        }
        if (req.runningMatches < 0n) {
          throw MaestroError.invalid([{ field: "runningMatches", message: "must not be negative" }]);
        }
        const scheduler = await d.schedulers.getScheduler(req.schedulerName, { signal: ctx.signal });
        await d.roomManager.updateRoomWithPing(
          scheduler,
          req.roomName,
          {
            status: req.status as PingRequestStatus,
            runningMatches: Number(req.runningMatches),
            metadata: req.metadata,
          },
          { signal: ctx.signal },
        );
        return { success: true };
      }),
    /**
     * Hands a matchmaker one ready room atomically. No ready room is a 409 resource_exhausted the caller can retry
     * (Maestro answered 500).
     */
    allocateRoom: (req, ctx) =>
      handle(async () => {
        const opts = { signal: ctx.signal };
        const scheduler = await d.schedulers.getScheduler(req.schedulerName, opts);
        const room = await d.rooms.allocateRoom(
          req.schedulerName,
          {
            now: d.clock.now(),
            metadataSelector: req.metadataSelector,
            idempotencyKey: req.idempotencyKey || undefined,
            ttlMs: d.allocationTtlMs,
            maxMatches: scheduler.matchAllocation.maxMatches,
          },
          opts,
        );
        if (!room) {
          const which = Object.keys(req.metadataSelector).length ? " matching the metadata selector" : "";
          throw new MaestroError(
            "resource_exhausted",
            `no ready room${which} to allocate in scheduler ${req.schedulerName}`,
          );
        }
        const address = (await d.instances.getInstance(req.schedulerName, room.id, opts))?.address;
        return { roomId: room.id, success: true, message: "", ports: address?.ports ?? [], host: address?.host ?? "" };
      }),
    getRoomAddress: (req, ctx) =>
      handle(async () => {
        authorize(ctx, req.schedulerName, req.roomName);
        const instance = await d.instances.getInstance(req.schedulerName, req.roomName, { signal: ctx.signal });
        if (!instance?.address) throw MaestroError.notFound(`address of room ${req.roomName}`);
        return { host: instance.address.host, ports: instance.address.ports, ipv6Label: "" };
      }),
  };
}
