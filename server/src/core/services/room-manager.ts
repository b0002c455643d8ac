import { randomInt } from "node:crypto";
import type { GameRoom, Instance, RoomStatusName } from "../entities/game-room.js";
import type { PingUpdate } from "../entities/room-ping.js";
import type { RemovalGuard } from "../entities/room-removal.js";
import type { Scheduler } from "../entities/scheduler.js";
import { MaestroError } from "../errors.js";
import { failpoint } from "../failpoints.js";
import type { CallOptions } from "../ports/call-options.js";
import type { Clock } from "../ports/clock.js";
import type { Logger } from "../ports/logger.js";
import type { PortAllocator } from "../ports/port-allocator.js";
import type { InstanceStorage, RoomStorage } from "../ports/room-storage.js";
import type { RoomTokens } from "../ports/room-token.js";
import type { Runtime } from "../ports/runtime.js";
import type { EventsService } from "./events-service.js";
import type { RoomTimeouts } from "./timeouts.js";

export interface RoomManagerDeps {
  rooms: RoomStorage;
  instances: InstanceStorage;
  runtime: Runtime;
  ports: PortAllocator;
  tokens: RoomTokens;
  clock: Clock;
  logger: Logger;
  timeouts: RoomTimeouts;
  /** URL rooms use to reach the rooms API (read per room: it is known only once the rooms API listens). */
  roomsApiUrl: () => string;
  /** Tells the scheduler's forwarders a room is terminated (fire and forget). */
  events?: Pick<EventsService, "roomTerminated"> | undefined;
}

export const pingStatusesAccepted = ["ready", "occupied", "terminating", "terminated"] as const;
export type PingRequestStatus = (typeof pingStatusesAccepted)[number];

export interface Ping {
  status: PingRequestStatus;
  runningMatches?: number | undefined;
  metadata?: Record<string, unknown> | undefined;
}

const idAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

/** Room id = pod name: the scheduler name (cut so the id stays a valid 63-char name) plus 5 random characters. */
export function newRoomId(schedulerName: string): string {
  let suffix = "";
  for (let i = 0; i < 5; i++) suffix += idAlphabet[randomInt(idAlphabet.length)];
  return `${schedulerName.slice(0, 57)}-${suffix}`;
}

/** Creates, updates and removes rooms, keeping room state, instance state and the runtime in step. */
export class RoomManager {
  constructor(private readonly deps: RoomManagerDeps) {}

  async createRoom(
    scheduler: Scheduler,
    opts: CallOptions & { isValidationRoom?: boolean } = {},
  ): Promise<{ room: GameRoom; instance: Instance }> {
    const { rooms, instances, runtime, ports, tokens, clock } = this.deps;
    const now = clock.now();
    const room: GameRoom = {
      id: newRoomId(scheduler.name),
      schedulerName: scheduler.name,
      version: scheduler.spec.version,
      status: "pending",
      pingStatus: "unknown",
      metadata: {},
      isValidationRoom: opts.isValidationRoom ?? false,
      runningMatches: 0,
      createdAt: now,
      lastPingAt: now,
    };
    await rooms.createRoom(room, opts);
    await failpoint("room/stored");
    let allocated: number[] = [];
    try {
      const hostPorts = await ports.allocate(scheduler, opts);
      allocated = hostPorts.map((p) => p.hostPort);
      const env = { roomsApiUrl: this.deps.roomsApiUrl(), roomToken: tokens.tokenFor(scheduler.name, room.id) };
      const instance = await runtime.createRoom(scheduler, room, hostPorts, env, opts);
      await failpoint("room/spawned");
      // The runtime watcher may already have stored a newer state of this instance (spawned, ready): keep it.
      const seen = await instances.getInstance(scheduler.name, room.id, opts);
      if (!seen) await instances.upsertInstance(instance, opts);
      return { room, instance: seen ?? instance };
    } catch (err) {
      ports.release(allocated);
      await rooms.deleteRoom(scheduler.name, room.id).catch(() => undefined);
      await instances.deleteInstance(scheduler.name, room.id).catch(() => undefined);
      throw MaestroError.from(err);
    }
  }

  /**
   * Claims the room for removal (atomically with the guard's check: by default `any`, i.e. removal by id) and asks the
   * runtime to stop it; its records go when the runtime reports it gone (or now if the runtime does not know it).
   * Returns false, changing nothing, when the guard refuses: the room got into a match meanwhile.
   */
  async deleteRoom(
    schedulerName: string,
    roomId: string,
    reason: string,
    opts: CallOptions & { guard?: RemovalGuard } = {},
  ): Promise<boolean> {
    const claim = await this.deps.rooms.claimForRemoval(schedulerName, roomId, opts.guard ?? { kind: "any" }, opts);
    if (claim.outcome === "refused") {
      this.deps.logger.info({ scheduler: schedulerName, room: roomId, reason }, `room kept: ${claim.reason}`);
      return false;
    }
    await failpoint("room/removal-claimed");
    const instance = await this.deps.instances.getInstance(schedulerName, roomId, opts);
    if (!instance) {
      await this.cleanRoomState(schedulerName, roomId, opts);
      return true;
    }
    try {
      await this.deps.runtime.deleteRoom(schedulerName, roomId, reason, opts);
    } catch (err) {
      if (err instanceof MaestroError && err.code === "not_found") {
        await this.cleanRoomState(schedulerName, roomId, opts);
        return true;
      }
      throw err;
    }
    // Maestro forwards `terminated` as soon as it asked for the deletion, and again when the room is gone.
    if (claim.outcome === "claimed") this.deps.events?.roomTerminated(schedulerName, claim.room);
    return true;
  }

  /**
   * Forgets rooms whose instance the runtime proves gone, taking them out of allocation first: stored instances the
   * runtime does not list, when the runtime's list is the whole truth for them (no runtime identity, or the runtime's
   * own rooms), or with `takeover` (this replica just took the scheduler over, and the previous owner's rooms died or
   * are no longer managed). Run at runtime-watcher start, at scheduler takeover and on clean shutdown.
   * Returns the ids forgotten.
   */
  async forgetGoneRooms(schedulerName: string, opts: CallOptions & { takeover?: boolean } = {}): Promise<string[]> {
    const { instances, runtime } = this.deps;
    // Stored first: an instance stored before the runtime's list was taken is in that list unless it is gone.
    const stored = await instances.listInstances(schedulerName, opts);
    if (stored.length === 0) return [];
    const live = new Set((await runtime.listInstances(schedulerName, opts)).map((i) => i.id));
    const gone = stored.filter(
      (i) =>
        !live.has(i.id) && (opts.takeover === true || runtime.identity === undefined || i.owner === runtime.identity),
    );
    for (const instance of gone) {
      await this.deps.rooms.claimForRemoval(schedulerName, instance.id, { kind: "any" }, opts);
      await this.cleanRoomState(schedulerName, instance.id, opts);
    }
    if (gone.length > 0) {
      this.deps.logger.info(
        { scheduler: schedulerName, rooms: gone.length },
        "forgot rooms whose instances the runtime no longer has",
      );
    }
    return gone.map((i) => i.id);
  }

  /**
   * Clean shutdown of a runtime whose rooms die with this server: stops the rooms and removes their records, so none
   * stays allocatable until its ping times out. Rooms on other runtimes (Kubernetes) outlive the server and stay.
   */
  async forgetOwnRooms(schedulerName: string, opts: CallOptions = {}): Promise<void> {
    const { instances, runtime } = this.deps;
    if (runtime.identity === undefined) return;
    for (const instance of await instances.listInstances(schedulerName, opts)) {
      if (instance.owner !== runtime.identity) continue;
      await this.deps.rooms.claimForRemoval(schedulerName, instance.id, { kind: "any" }, opts);
      await this.cleanRoomState(schedulerName, instance.id, opts);
    }
  }

  /** Removes every record of a room the runtime no longer has. */
  async cleanRoomState(schedulerName: string, roomId: string, opts: CallOptions = {}): Promise<void> {
    const instance = await this.deps.instances.getInstance(schedulerName, roomId, opts);
    if (instance?.address) this.deps.ports.release(instance.address.ports.map((p) => p.port));
    const room = this.deps.events ? await this.deps.rooms.getRoom(schedulerName, roomId, opts) : undefined;
    await this.deps.rooms.deleteRoom(schedulerName, roomId, opts).catch(ignoreNotFound);
    if (room) this.deps.events?.roomTerminated(schedulerName, room);
    await this.deps.instances.deleteInstance(schedulerName, roomId, opts);
  }

  /**
   * A room's ping. Unknown rooms are refused without writing anything (Maestro created a stray record); a status the
   * room may not move to is refused with failed_precondition.
   */
  async updateRoomWithPing(
    scheduler: Scheduler,
    roomId: string,
    ping: Ping,
    opts: CallOptions = {},
  ): Promise<GameRoom> {
    // One storage call (one Redis round trip): reading the room and instance here first would race other writers.
    return this.deps.rooms.applyPing(scheduler.name, roomId, this.pingUpdate(scheduler, ping), opts);
  }

  /** updateRoomWithPing for callers that need only the room's new status (no forwarder sees the ping). */
  async recordPing(scheduler: Scheduler, roomId: string, ping: Ping, opts: CallOptions = {}): Promise<RoomStatusName> {
    return this.deps.rooms.recordPing(scheduler.name, roomId, this.pingUpdate(scheduler, ping), opts);
  }

  private pingUpdate(scheduler: Scheduler, ping: Ping): PingUpdate {
    let runningMatches = ping.runningMatches ?? 0;
    if (ping.status === "occupied" && runningMatches < 1) runningMatches = 1;
    return {
      status: ping.status,
      runningMatches,
      metadata: ping.metadata,
      now: this.deps.clock.now(),
      maxMatches: scheduler.matchAllocation.maxMatches,
      allocationTtlMs: this.deps.timeouts.allocationTtlMs,
    };
  }

  /**
   * The runtime's view of a room changed. The instance is stored first, then the room's status is recomputed from
   * the stored instance in one atomic storage step (like a ping), so concurrent events and pings never overwrite
   * each other and the last instance written decides.
   */
  async updateInstance(scheduler: Scheduler, instance: Instance, opts: CallOptions = {}): Promise<void> {
    await this.deps.instances.upsertInstance(instance, opts);
    await this.deps.rooms.applyInstanceStatus(
      scheduler.name,
      instance.id,
      {
        now: this.deps.clock.now(),
        maxMatches: scheduler.matchAllocation.maxMatches,
        allocationTtlMs: this.deps.timeouts.allocationTtlMs,
      },
      opts,
    );
  }
}

function ignoreNotFound(err: unknown): void {
  if (err instanceof MaestroError && err.code === "not_found") return;
  throw err;
}
