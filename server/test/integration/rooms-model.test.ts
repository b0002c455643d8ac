import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryInstanceStorage, MemoryRoomStorage } from "../../src/adapters/storage/memory/index.js";
import {
  createRedisClient,
  type RedisClient,
  RedisInstanceStorage,
  RedisRoomStorage,
  waitUntilReady,
} from "../../src/adapters/storage/redis/index.js";
import type { GameRoom, InstanceStatusType, RoomStatusName } from "../../src/core/entities/game-room.js";
import { busyStatuses } from "../../src/core/entities/room-removal.js";
import { roomsByDeletionPriority } from "../../src/core/operations/remove-rooms/deletion-priority.js";
import type { InstanceStorage, RoomStorage } from "../../src/core/ports/room-storage.js";
import { uniqueScheduler } from "../support/contract-helpers.js";
import { validScheduler } from "../support/fixtures.js";
import { startRedis, type TestRedis } from "../support/redis.js";

/**
 * Model-based concurrency test of room state: fast-check drives random batches of concurrent pings, allocations,
 * scale-downs (list, pick by deletion priority, guarded claim — the remove_rooms path), instance events, removals by
 * id and hard deletes against one scheduler's rooms, on real Redis and on the memory adapter. Every write returns the
 * room with its revision, so each room's whole history is known in revision order; the invariants are checked on it:
 *   - revisions grow by exactly one per write: no two writes share a revision, and none is missing;
 *   - a slot is never handed out twice: an allocation starts from an allocatable state (ready, or a multi-match room
 *     with a free slot) and takes exactly one slot;
 *   - an allocated room is never removed by scaling within its allocation TTL (time stands still here, so never);
 *     only a removal by id may take it;
 *   - a room claimed for removal is never allocated afterwards.
 * Bounded: a handful of rooms, short command lists, few runs per backend.
 */

const NOW = new Date("2026-04-01T00:00:00.000Z");
const TTL_MS = 60_000;
const ROOMS = ["r0", "r1", "r2", "r3", "r4"];
const RUNS = 30;

type Kind = "create" | "ping" | "allocate" | "instance" | "scale-claim" | "id-claim";
interface Write {
  kind: Kind;
  room: GameRoom;
}

interface World {
  scheduler: string;
  rooms: RoomStorage;
  instances: InstanceStorage;
  maxMatches: number;
  writes: Write[];
  deleted: Set<string>;
  errors: unknown[];
}

type Action =
  | { type: "ping"; room: string; status: "ready" | "occupied" | "terminating"; running: number }
  | { type: "allocate"; selector: boolean }
  | { type: "instance"; room: string; status: InstanceStatusType }
  | { type: "scale-down" }
  | { type: "remove-by-id"; room: string }
  | { type: "delete"; room: string };

const room = fc.constantFrom(...ROOMS);
const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      type: fc.constant("ping" as const),
      room,
      status: fc.constantFrom("ready" as const, "ready" as const, "occupied" as const, "terminating" as const),
      running: fc.integer({ min: 0, max: 3 }),
    }),
  },
  { weight: 4, arbitrary: fc.record({ type: fc.constant("allocate" as const), selector: fc.boolean() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant("instance" as const),
      room,
      status: fc.constantFrom<InstanceStatusType>("ready", "ready", "error", "terminating", "pending"),
    }),
  },
  { weight: 3, arbitrary: fc.constant({ type: "scale-down" as const }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant("remove-by-id" as const), room }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant("delete" as const), room }) },
);

const ignorable = (err: unknown) => {
  const code = (err as { code?: string }).code;
  // A refused ping transition, or a room deleted meanwhile: both are answers, not failures.
  return code === "failed_precondition" || code === "not_found";
};

async function perform(w: World, a: Action): Promise<void> {
  const { rooms, instances, scheduler: s } = w;
  try {
    switch (a.type) {
      case "ping": {
        const r = await rooms.applyPing(s, a.room, {
          status: a.status,
          runningMatches: a.status === "occupied" ? Math.max(1, a.running) : Math.min(a.running, w.maxMatches - 1),
          metadata: { map: a.room === "r0" ? "moon" : "sun" },
          now: NOW,
          maxMatches: w.maxMatches,
          allocationTtlMs: TTL_MS,
        });
        w.writes.push({ kind: "ping", room: r });
        return;
      }
      case "allocate": {
        const r = await rooms.allocateRoom(s, {
          now: NOW,
          ttlMs: TTL_MS,
          maxMatches: w.maxMatches,
          ...(a.selector ? { metadataSelector: { map: "sun" } } : {}),
        });
        if (r) w.writes.push({ kind: "allocate", room: r });
        return;
      }
      case "instance": {
        await instances.upsertInstance({ id: a.room, schedulerName: s, status: { type: a.status, description: "" } });
        const r = await rooms.applyInstanceStatus(s, a.room, {
          now: NOW,
          maxMatches: w.maxMatches,
          allocationTtlMs: TTL_MS,
        });
        // An unchanged room comes back at the revision it had: then this is an observation of that revision.
        if (r) w.writes.push({ kind: "instance", room: r });
        return;
      }
      case "scale-down": {
        const scheduler = validScheduler({ name: s });
        const listed = await rooms.listRooms(s);
        const [pick] = roomsByDeletionPriority(
          listed.filter((r) => !busyStatuses.includes(r.status)),
          scheduler,
          { now: NOW, pingTimeoutMs: 240_000 },
        );
        if (!pick) return;
        const claim = await rooms.claimForRemoval(s, pick.id, { kind: "idle", now: NOW, allocationTtlMs: TTL_MS });
        if (claim.outcome === "claimed") w.writes.push({ kind: "scale-claim", room: claim.room });
        return;
      }
      case "remove-by-id": {
        const claim = await rooms.claimForRemoval(s, a.room, { kind: "any" });
        if (claim.outcome === "claimed") w.writes.push({ kind: "id-claim", room: claim.room });
        return;
      }
      case "delete": {
        // Only rooms removed by id are deleted (as the runtime's report of the gone instance would do).
        const stored = await rooms.getRoom(s, a.room);
        if (stored?.removing !== true) return;
        w.deleted.add(a.room);
        await rooms.deleteRoom(s, a.room);
        return;
      }
    }
  } catch (err) {
    if (!ignorable(err)) w.errors.push(err);
  }
}

class Batch implements fc.AsyncCommand<object, World> {
  constructor(readonly actions: Action[]) {}
  check = () => true;
  async run(_: object, w: World): Promise<void> {
    await Promise.all(this.actions.map((a) => perform(w, a)));
  }
  toString = () => `batch(${this.actions.map((a) => JSON.stringify(a)).join(", ")})`;
}

const commands = [fc.array(action, { minLength: 1, maxLength: 5 }).map((actions) => new Batch(actions))];

/** The invariants, on every room's history in revision order. */
function violations(w: World): string[] {
  const found: string[] = [];
  const byRoom = new Map<string, Map<number, Write[]>>();
  for (const write of w.writes) {
    const revision = write.room.revision;
    if (revision === undefined) {
      found.push(`${write.kind} of ${write.room.id} returned no revision`);
      continue;
    }
    const history = byRoom.get(write.room.id) ?? new Map<number, Write[]>();
    byRoom.set(write.room.id, history);
    history.set(revision, [...(history.get(revision) ?? []), write]);
  }
  for (const [id, history] of byRoom) {
    const max = Math.max(...history.keys());
    let claimed: number | undefined;
    for (let r = 1; r <= max; r++) {
      const at = history.get(r);
      if (!at) {
        found.push(`${id}: no write produced revision ${r} (of ${max})`);
        continue;
      }
      // An instance event that changed nothing reports the revision of the write before; one that changed the room
      // is the only report of its revision. Either way, every report of a revision shows the same room.
      const writers = at.filter((x) => x.kind !== "instance");
      const states = new Set(at.map((x) => `${x.room.status}/${x.room.runningMatches}`));
      if (writers.length > 1)
        found.push(`${id}: revision ${r} produced by ${writers.map((x) => x.kind).join(" and ")}`);
      if (states.size > 1) found.push(`${id}: revision ${r} seen as ${[...states].join(" and ")}`);
      const write = writers[0] ?? (at[0] as Write);
      const before = history.get(r - 1)?.[0]?.room;
      if (write.kind === "allocate") {
        if (claimed !== undefined)
          found.push(`${id}: allocated at revision ${r} after its removal claim at ${claimed}`);
        if (before) {
          const free: RoomStatusName[] = w.maxMatches > 1 ? ["ready", "active", "allocated"] : ["ready"];
          const held = before.status === "ready" ? 0 : before.runningMatches;
          if (!free.includes(before.status) || before.removing === true) {
            found.push(`${id}: allocated at revision ${r} while ${before.status} (a slot handed out twice)`);
          } else if (w.maxMatches > 1 && write.room.runningMatches !== held + 1) {
            found.push(`${id}: allocation at revision ${r} took ${write.room.runningMatches - held} slots`);
          } else if (held + 1 > w.maxMatches) {
            found.push(`${id}: allocation at revision ${r} beyond ${w.maxMatches} matches`);
          }
        }
      }
      if (write.kind === "scale-claim" && before) {
        if (busyStatuses.includes(before.status) || before.allocatedAt !== undefined) {
          found.push(`${id}: scaled down at revision ${r} while ${before.status}, allocated within the TTL`);
        }
      }
      if (write.kind === "scale-claim" || write.kind === "id-claim") claimed ??= r;
    }
  }
  return found;
}

async function seed(w: World): Promise<void> {
  for (const id of ROOMS) {
    const room: GameRoom = {
      id,
      schedulerName: w.scheduler,
      version: "v1.0.0",
      status: "ready",
      pingStatus: "ready",
      metadata: { map: id === "r0" ? "moon" : "sun" },
      isValidationRoom: false,
      runningMatches: 0,
      createdAt: NOW,
      lastPingAt: NOW,
    };
    await w.instances.upsertInstance({ id, schedulerName: w.scheduler, status: { type: "ready", description: "" } });
    await w.rooms.createRoom(room);
    w.writes.push({ kind: "create", room: { ...room, revision: 1 } });
  }
}

function property(backend: () => { rooms: RoomStorage; instances: InstanceStorage }, maxMatches: number) {
  return fc.asyncProperty(fc.commands(commands, { maxCommands: 15 }), async (cmds) => {
    const { rooms, instances } = backend();
    const world: World = {
      scheduler: uniqueScheduler(),
      rooms,
      instances,
      maxMatches,
      writes: [],
      deleted: new Set(),
      errors: [],
    };
    await seed(world);
    await fc.asyncModelRun(() => ({ model: {}, real: world }), cmds);
    expect(world.errors).toEqual([]);
    expect(violations(world)).toEqual([]);
  });
}

describe("room state under concurrent writers (model-based)", () => {
  let redis: TestRedis | undefined;
  let client: RedisClient | undefined;

  beforeAll(async () => {
    redis = await startRedis();
    client = createRedisClient(redis.url, { name: "rooms-model" });
    await waitUntilReady(client, { timeoutMs: 10_000 });
  });
  afterAll(async () => {
    client?.disconnect();
    await redis?.stop();
  });

  const onRedis = () => ({
    rooms: new RedisRoomStorage(client as RedisClient),
    instances: new RedisInstanceStorage(client as RedisClient),
  });
  const inMemory = () => {
    const instances = new MemoryInstanceStorage();
    return { rooms: new MemoryRoomStorage((s, id) => instances.statusOf(s, id)), instances };
  };

  it("keeps every invariant on Redis, single-match", async () => {
    await fc.assert(property(onRedis, 1), { numRuns: RUNS });
  });
  it("keeps every invariant on Redis, multi-match (3 per room)", async () => {
    await fc.assert(property(onRedis, 3), { numRuns: RUNS });
  });
  it("keeps every invariant in memory, single- and multi-match", async () => {
    await fc.assert(property(inMemory, 1), { numRuns: RUNS });
    await fc.assert(property(inMemory, 3), { numRuns: RUNS });
  });

  it("finds a double hand-out when allocation is not atomic (the checker can fail)", () => {
    const r = (revision: number, status: RoomStatusName): GameRoom => ({
      id: "r0",
      schedulerName: "s",
      version: "v1",
      status,
      pingStatus: "ready",
      metadata: {},
      isValidationRoom: false,
      runningMatches: 0,
      createdAt: NOW,
      lastPingAt: NOW,
      revision,
    });
    const w = { maxMatches: 1, writes: [] as Write[] } as unknown as World;
    w.writes.push({ kind: "create", room: r(1, "ready") });
    w.writes.push({ kind: "allocate", room: r(2, "allocated") });
    w.writes.push({ kind: "allocate", room: r(3, "allocated") });
    w.writes.push({ kind: "scale-claim", room: r(4, "terminating") });
    expect(violations(w)).toEqual([
      "r0: allocated at revision 3 while allocated (a slot handed out twice)",
      "r0: scaled down at revision 4 while allocated, allocated within the TTL",
    ]);
  });
});
