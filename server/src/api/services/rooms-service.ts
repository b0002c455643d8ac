import type { ServiceImpl } from "@connectrpc/connect";
import type { RoomsService } from "@maestro/proto";
import { isMaestroError, MaestroError } from "../../core/errors.js";
import type { Clock } from "../../core/ports/clock.js";
import {
  type ForwardedRoomStatus,
  forwardedRoomStatuses,
  type PlayerEventType,
  playerEventTypes,
} from "../../core/ports/event-forwarder.js";
import type { InstanceStorage, RoomStorage } from "../../core/ports/room-storage.js";
import type { SchedulerStorage } from "../../core/ports/scheduler-storage.js";
import type { EventsService } from "../../core/services/events-service.js";
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
  /** Forwards room and player events; without it events succeed and go nowhere. */
  events?: EventsService | undefined;
}

/**
 * The API game rooms call: pings, events for the matchmakers (forwarders), allocation. Who may call what is decided
 * before any handler runs, by the rooms API's authorizer (api/auth/rooms-auth.ts), on every protocol.
 */
export function roomsService(d: RoomsServiceDeps): Partial<ServiceImpl<typeof RoomsService>> {
  const ping = roomPing(d);
  return {
    updateRoomWithPing: (req, ctx) =>
      handle(async () => {
        await ping(req, ctx.signal);
        return { success: true };
      }),
    forwardRoomEvent: (req, ctx) =>
      handle(async () => {
        if (typeof req.event !== "string" || req.event.trim() === "") {
          throw MaestroError.invalid([{ field: "event", message: "is required" }]);
        }
        const metadata = req.metadata ?? {};
        return reportForwarding(() =>
          d.events?.roomEvent(req.schedulerName, req.roomName, req.event, metadata, { signal: ctx.signal }),
        );
      }),
    forwardPlayerEvent: (req, ctx) =>
      handle(async () => {
        const metadata = req.metadata ?? {};
        const violations = [];
        if (!playerEventTypes.includes(req.event as PlayerEventType)) {
          violations.push({ field: "event", message: `must be one of ${playerEventTypes.join(", ")}` });
        }
        const playerId = metadata.playerId;
        if (typeof playerId !== "string" || playerId === "") {
          violations.push({ field: "metadata.playerId", message: "is required (a string)" });
        }
        if (violations.length > 0) throw MaestroError.invalid(violations);
        return reportForwarding(() =>
          d.events?.playerEvent(
            req.schedulerName,
            req.roomName,
            req.event as PlayerEventType,
            playerId as string,
            metadata,
            { signal: ctx.signal },
          ),
        );
      }),
    /** Maestro v9's status update: changes nothing (pings do), only forwards the status. */
    updateRoomStatus: (req, ctx) =>
      handle(async () => {
        if (!forwardedRoomStatuses.includes(req.status as ForwardedRoomStatus)) {
          throw MaestroError.invalid([
            { field: "status", message: `must be one of ${forwardedRoomStatuses.join(", ")}` },
          ]);
        }
        const { success } = await reportForwarding(() =>
          d.events?.roomStatus(req.schedulerName, req.roomName, req.status as ForwardedRoomStatus, req.metadata ?? {}, {
            signal: ctx.signal,
          }),
        );
        return { success };
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
        const instance = await d.instances.getInstance(req.schedulerName, req.roomName, { signal: ctx.signal });
        if (!instance?.address) throw MaestroError.notFound(`address of room ${req.roomName}`);
        return { host: instance.address.host, ports: instance.address.ports, ipv6Label: "" };
      }),
  };
}

/** What a ping carries, as decoded by any protocol (the REST fast route builds it without a protobuf message). */
export interface PingInput {
  schedulerName: string;
  roomName: string;
  status: string;
  runningMatches: bigint;
  metadata?: Record<string, unknown> | undefined;
}

/**
 * A room's ping: validation, the scheduler from the cache and one storage step. Shared by the RPC and the REST fast
 * route (api/rest/fast-ping-route.ts) so both answer alike; throws MaestroError.
 */
export function roomPing(
  d: Pick<RoomsServiceDeps, "schedulers" | "roomManager" | "events">,
): (req: PingInput, signal?: AbortSignal) => Promise<void> {
  return async (req, signal) => {
    if (!pingStatusesAccepted.includes(req.status as PingRequestStatus)) {
      throw MaestroError.invalid([{ field: "status", message: `must be one of ${pingStatusesAccepted.join(", ")}` }]);
    }
    if (req.runningMatches < 0n) {
      throw MaestroError.invalid([{ field: "runningMatches", message: "must not be negative" }]);
    }
    const opts = signal === undefined ? {} : { signal };
    const scheduler = await d.schedulers.getScheduler(req.schedulerName, opts);
    const ping = {
      status: req.status as PingRequestStatus,
      runningMatches: Number(req.runningMatches),
      metadata: req.metadata,
    };
    if (d.events?.hasForwarders(scheduler)) {
      const room = await d.roomManager.updateRoomWithPing(scheduler, req.roomName, ping, opts);
      // Delivery runs after the answer and only logs failures, as Maestro: a matchmaker never slows a ping.
      d.events.forwardPing(scheduler, room);
    } else {
      // Nobody receives the room: storage need not send it back (most of a ping's Redis reply).
      await d.roomManager.recordPing(scheduler, req.roomName, ping, opts);
    }
  };
}

/**
 * A forwarding failure is an answer (`success:false` + the reason), as in Maestro; an unknown room or scheduler, bad
 * input or a refused token stay errors.
 */
async function reportForwarding(send: () => Promise<void> | undefined): Promise<{ success: boolean; message: string }> {
  try {
    await send();
    return { success: true, message: "" };
  } catch (err) {
    if (
      isMaestroError(err) &&
      (err.code === "not_found" || err.code === "invalid_argument" || err.code === "unauthenticated")
    ) {
      throw err;
    }
    return { success: false, message: err instanceof Error ? err.message : String(err) };
  }
}
