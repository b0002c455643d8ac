import { randomUUID } from "node:crypto";
import type { GameRoom, RoomStatusName } from "../../src/core/entities/game-room.js";
import { roomStatusNames } from "../../src/core/entities/game-room.js";
import type { InstanceStorage, RoomStatusEvent, RoomStorage } from "../../src/core/ports/room-storage.js";

/** A room storage and the instance storage its applyPing reads (linked the way the server wires them). */
export interface RoomStores {
  rooms: RoomStorage;
  instances: InstanceStorage;
}

const probePrefix = "watch-probe-";

export interface Watch {
  controller: AbortController;
  /** Events after the watch was known to be live, without those of readiness probes (of this or other watches). */
  events(): RoomStatusEvent[];
  /** Settles when the iteration ends; rejects if it throws. */
  ended: Promise<void>;
}

/**
 * Starts watching and returns once the watch provably delivers: a probe room is created and its status flipped until
 * the watcher sees it (a Redis subscription becomes live asynchronously). The probe room is deleted afterwards.
 */
export async function startWatch(storage: RoomStorage, scheduler: string, watches: AbortController[]): Promise<Watch> {
  const controller = new AbortController();
  watches.push(controller);
  const received: RoomStatusEvent[] = [];
  const iterable = storage.watchRoomStatus(scheduler, { signal: controller.signal });
  const ended = (async () => {
    for await (const event of iterable) received.push(event);
  })();
  ended.catch(() => {});

  const probeId = `${probePrefix}${randomUUID()}`;
  const probe = room(scheduler, probeId, "pending");
  await storage.createRoom(probe);
  let status: RoomStatusName = "pending";
  await waitFor(async () => {
    if (received.some((e) => e.roomId === probeId)) return true;
    status = status === "pending" ? "unready" : "pending";
    await storage.updateRoom({ ...probe, status });
    return false;
  });
  await storage.deleteRoom(scheduler, probeId);
  const start = received.length;
  return {
    controller,
    events: () => received.slice(start).filter((e) => !e.roomId.startsWith(probePrefix)),
    ended,
  };
}

export function room(schedulerName: string, id: string, status: RoomStatusName = "pending"): GameRoom {
  return {
    id,
    schedulerName,
    version: "v1.0.0",
    status,
    pingStatus: "unknown",
    metadata: {},
    isValidationRoom: false,
    runningMatches: 0,
    createdAt: ms(1),
    lastPingAt: ms(2),
  };
}

export function zeroCounts(): Record<RoomStatusName, number> {
  return Object.fromEntries(roomStatusNames.map((s) => [s, 0])) as Record<RoomStatusName, number>;
}

/** A fixed instant with milliseconds, so adapters that drop sub-second precision fail. */
export function ms(seconds: number): Date {
  return new Date(Date.UTC(2026, 0, 2) + seconds * 1000 + 457);
}

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met before the deadline");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A stored room as created or written, with the revision storage gave it. */
export function at(room: GameRoom, revision: number): GameRoom {
  return { ...room, revision };
}
