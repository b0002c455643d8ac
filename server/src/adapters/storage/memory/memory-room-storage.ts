import type { GameRoom, InstanceStatusType, RoomStatusName } from "../../../core/entities/game-room.js";
import { roomStatusNames } from "../../../core/entities/game-room.js";
import { metadataMatches } from "../../../core/entities/metadata-selector.js";
import {
  applyInstanceToRoom,
  applyPingToRoom,
  type PingUpdate,
  pingTransitionRefused,
  type StatusContext,
} from "../../../core/entities/room-ping.js";
import { claimedRoom, type RemovalGuard, removalRefusal } from "../../../core/entities/room-removal.js";
import { MaestroError } from "../../../core/errors.js";
import type { CallOptions } from "../../../core/ports/call-options.js";
import type {
  AllocationRequest,
  RemovalClaim,
  RoomStatusEvent,
  RoomStorage,
} from "../../../core/ports/room-storage.js";
import { throwIfAborted } from "./abort.js";
import { EventChannel } from "./event-channel.js";

/**
 * RoomStorage in process memory. watchRoomStatus reports a room's status when it is created and whenever an update
 * changes it; a delete reports nothing (the runtime watcher already knows, and a deleted room has no status left).
 */
export class MemoryRoomStorage implements RoomStorage {
  private readonly rooms = new Map<string, Map<string, GameRoom>>();
  private readonly watchers = new Map<string, Set<EventChannel<RoomStatusEvent>>>();
  private readonly allocations = new Map<string, { roomId: string; expiresAt: number }>();

  /**
   * @param instanceStatus the instance status of a room, read synchronously by applyPing (pass
   * `MemoryInstanceStorage.statusOf`); without it every instance counts as unknown.
   */
  constructor(
    private readonly instanceStatus: (schedulerName: string, roomId: string) => InstanceStatusType | undefined = () =>
      undefined,
  ) {}

  async createRoom(room: GameRoom, opts?: CallOptions): Promise<void> {
    throwIfAborted(opts);
    const rooms = this.roomsOf(room.schedulerName);
    if (rooms.has(room.id)) throw new MaestroError("already_exists", `room ${room.id} already exists`);
    rooms.set(room.id, { ...structuredClone(room), revision: 1 });
    this.publish(room);
  }

  async getRoom(schedulerName: string, roomId: string, opts?: CallOptions): Promise<GameRoom | undefined> {
    throwIfAborted(opts);
    const room = this.rooms.get(schedulerName)?.get(roomId);
    return room === undefined ? undefined : structuredClone(room);
  }

  async updateRoom(room: GameRoom, opts?: CallOptions): Promise<void> {
    throwIfAborted(opts);
    const rooms = this.rooms.get(room.schedulerName);
    const previous = rooms?.get(room.id);
    if (rooms === undefined || previous === undefined) throw MaestroError.notFound(`room ${room.id}`);
    if (room.revision !== undefined && room.revision !== previous.revision) throw revisionConflict(room, previous);
    rooms.set(room.id, { ...structuredClone(room), revision: nextRevision(previous) });
    if (previous.status !== room.status) this.publish(room);
  }

  async deleteRoom(schedulerName: string, roomId: string, opts?: CallOptions): Promise<void> {
    throwIfAborted(opts);
    const rooms = this.rooms.get(schedulerName);
    if (rooms?.delete(roomId) !== true) throw MaestroError.notFound(`room ${roomId}`);
    if (rooms.size === 0) this.rooms.delete(schedulerName);
  }

  async applyPing(schedulerName: string, roomId: string, ping: PingUpdate, opts?: CallOptions): Promise<GameRoom> {
    throwIfAborted(opts);
    return structuredClone(this.ping(schedulerName, roomId, ping));
  }

  async recordPing(
    schedulerName: string,
    roomId: string,
    ping: PingUpdate,
    opts?: CallOptions,
  ): Promise<RoomStatusName> {
    throwIfAborted(opts);
    return this.ping(schedulerName, roomId, ping).status;
  }

  /** The stored room after the ping (not a copy). */
  private ping(schedulerName: string, roomId: string, ping: PingUpdate): GameRoom {
    // No await from the read to the write: nothing can interleave, as in the Redis script.
    const rooms = this.rooms.get(schedulerName);
    const room = rooms?.get(roomId);
    if (rooms === undefined || room === undefined)
      throw MaestroError.notFound(`room ${roomId} of scheduler ${schedulerName}`);
    const outcome = applyPingToRoom(room, this.instanceStatus(schedulerName, roomId) ?? "unknown", ping);
    if (!outcome.ok) throw pingTransitionRefused(roomId, outcome.from, outcome.to, ping.status);
    const updated = { ...structuredClone(outcome.room), revision: nextRevision(room) };
    rooms.set(roomId, updated);
    if (room.status !== updated.status) this.publish(updated);
    return updated;
  }

  async applyInstanceStatus(
    schedulerName: string,
    roomId: string,
    ctx: StatusContext,
    opts?: CallOptions,
  ): Promise<GameRoom | undefined> {
    throwIfAborted(opts);
    const rooms = this.rooms.get(schedulerName);
    const room = rooms?.get(roomId);
    if (rooms === undefined || room === undefined) return undefined;
    const next = applyInstanceToRoom(room, this.instanceStatus(schedulerName, roomId) ?? "unknown", ctx);
    if (next === undefined) return structuredClone(room);
    const updated = { ...structuredClone(next), revision: nextRevision(room) };
    rooms.set(roomId, updated);
    this.publish(updated);
    return structuredClone(updated);
  }

  async claimForRemoval(
    schedulerName: string,
    roomId: string,
    guard: RemovalGuard,
    opts?: CallOptions,
  ): Promise<RemovalClaim> {
    throwIfAborted(opts);
    // No await from the guard's check to the write: an allocation cannot slip in between.
    const rooms = this.rooms.get(schedulerName);
    const room = rooms?.get(roomId);
    if (rooms === undefined || room === undefined) return { outcome: "not_found" };
    const reason = removalRefusal(room, guard);
    if (reason !== undefined) return { outcome: "refused", reason, room: structuredClone(room) };
    const claimed = { ...claimedRoom(room), revision: nextRevision(room) };
    rooms.set(roomId, claimed);
    if (claimed.status !== room.status) this.publish(claimed);
    return { outcome: "claimed", room: structuredClone(claimed) };
  }

  async listRooms(schedulerName: string, opts?: CallOptions): Promise<GameRoom[]> {
    throwIfAborted(opts);
    return [...(this.rooms.get(schedulerName)?.values() ?? [])].map((room) => structuredClone(room));
  }

  async listRoomIds(schedulerName: string, opts?: CallOptions): Promise<string[]> {
    throwIfAborted(opts);
    return [...(this.rooms.get(schedulerName)?.keys() ?? [])];
  }

  async countByStatus(schedulerName: string, opts?: CallOptions): Promise<Record<RoomStatusName, number>> {
    throwIfAborted(opts);
    const counts = Object.fromEntries(roomStatusNames.map((status) => [status, 0])) as Record<RoomStatusName, number>;
    for (const room of this.rooms.get(schedulerName)?.values() ?? []) counts[room.status] += 1;
    return counts;
  }

  async countByStatusOf(
    schedulerNames: readonly string[],
    opts?: CallOptions,
  ): Promise<Record<RoomStatusName, number>[]> {
    throwIfAborted(opts);
    return Promise.all(schedulerNames.map((name) => this.countByStatus(name, opts)));
  }

  async allocateRoom(
    schedulerName: string,
    request: AllocationRequest,
    opts?: CallOptions,
  ): Promise<GameRoom | undefined> {
    throwIfAborted(opts);
    const rooms = this.rooms.get(schedulerName);
    const now = request.now.getTime();
    const keyed = request.idempotencyKey ? `${schedulerName}\n${request.idempotencyKey}` : undefined;
    if (keyed) {
      const earlier = this.allocations.get(keyed);
      if (earlier && earlier.expiresAt > now) {
        const room = rooms?.get(earlier.roomId);
        if (room) return structuredClone(room);
      }
    }
    // Everything below runs without an await: no other call can interleave, which is what makes it atomic here.
    const selector = Object.entries(request.metadataSelector ?? {});
    const maxMatches = request.maxMatches ?? 1;
    const eligible = [...(rooms?.values() ?? [])].filter(
      (r) => !r.isValidationRoom && r.removing !== true && metadataMatches(r.metadata, selector),
    );
    const byId = (a: GameRoom, b: GameRoom) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    const packable =
      maxMatches > 1
        ? eligible
            .filter(
              (r) =>
                (r.status === "active" || r.status === "allocated") &&
                r.runningMatches >= 1 &&
                r.runningMatches < maxMatches,
            )
            .sort((a, b) => b.runningMatches - a.runningMatches || byId(a, b))[0]
        : undefined;
    const candidate = packable ?? eligible.filter((r) => r.status === "ready").sort(byId)[0];
    if (!candidate) return undefined;
    const allocated = { ...allocatedSlot(candidate, maxMatches, new Date(now)), revision: nextRevision(candidate) };
    rooms!.set(candidate.id, allocated);
    if (allocated.status !== candidate.status) this.publish(allocated);
    if (keyed) {
      for (const [k, a] of this.allocations) if (a.expiresAt <= now) this.allocations.delete(k);
      this.allocations.set(keyed, { roomId: candidate.id, expiresAt: now + request.ttlMs });
    }
    return structuredClone(allocated);
  }

  /** Subscribes at call time, so no change made after this returns is missed even before iteration starts. */
  watchRoomStatus(schedulerName: string, opts: Required<CallOptions>): AsyncIterable<RoomStatusEvent> {
    let set = this.watchers.get(schedulerName);
    if (set === undefined) {
      set = new Set();
      this.watchers.set(schedulerName, set);
    }
    const watchers = set;
    const channel: EventChannel<RoomStatusEvent> = new EventChannel(opts.signal, () => {
      watchers.delete(channel);
      if (watchers.size === 0 && this.watchers.get(schedulerName) === watchers) this.watchers.delete(schedulerName);
    });
    if (!opts.signal.aborted) watchers.add(channel);
    return channel;
  }

  private roomsOf(schedulerName: string): Map<string, GameRoom> {
    let rooms = this.rooms.get(schedulerName);
    if (rooms === undefined) {
      rooms = new Map();
      this.rooms.set(schedulerName, rooms);
    }
    return rooms;
  }

  private publish(room: GameRoom): void {
    const watchers = this.watchers.get(room.schedulerName);
    if (watchers === undefined) return;
    for (const channel of watchers) {
      channel.push({ schedulerName: room.schedulerName, roomId: room.id, status: room.status });
    }
  }
}

function nextRevision(room: GameRoom): number {
  return (room.revision ?? 0) + 1;
}

function revisionConflict(room: GameRoom, stored: GameRoom): MaestroError {
  return new MaestroError(
    "conflict",
    `room ${room.id} changed since it was read (revision ${room.revision}, now ${stored.revision ?? 0})`,
  );
}

/** The room after one more match slot was handed out (the Lua allocate-room script does the same). */
function allocatedSlot(room: GameRoom, maxMatches: number, now: Date): GameRoom {
  if (maxMatches <= 1) return { ...room, status: "allocated", allocatedAt: now };
  const runningMatches = room.runningMatches + 1;
  const status = runningMatches >= maxMatches ? "occupied" : room.status === "active" ? "active" : "allocated";
  const occupiedAt = status === "occupied" ? now : room.occupiedAt;
  return { ...room, status, runningMatches, allocatedAt: now, occupiedAt };
}
