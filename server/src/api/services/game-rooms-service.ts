import type { ServiceImpl } from "@connectrpc/connect";
import type { GameRoomsService } from "@maestro/proto";
import { type RoomStatusName, roomStatusNames } from "../../core/entities/game-room.js";
import type { RoomUsage } from "../../core/entities/room-usage.js";
import type { Scheduler } from "../../core/entities/scheduler.js";
import { type FieldViolation, MaestroError } from "../../core/errors.js";
import type { CallOptions } from "../../core/ports/call-options.js";
import type { InstanceStorage, RoomStorage } from "../../core/ports/room-storage.js";
import type { Runtime } from "../../core/ports/runtime.js";
import type { SchedulerStorage } from "../../core/ports/scheduler-storage.js";
import { roomToPb } from "../convert/room-convert.js";
import { handle } from "../errors.js";

export interface GameRoomsServiceDeps {
  schedulers: SchedulerStorage;
  rooms: RoomStorage;
  instances: InstanceStorage;
  /** For ping ages; the system clock when absent. */
  now?: () => Date;
  /** The runtime's per-room CPU and memory; rooms come without usage when absent or when it fails. */
  usage?: ((scheduler: Scheduler, opts: CallOptions) => Promise<RoomUsage[]>) | undefined;
  /** The runtime's room logs; without it GetRoomLog answers unimplemented. */
  roomLog?: Runtime["roomLog"] | undefined;
}

const DEFAULT_TAIL_LINES = 100;
const MAX_TAIL_LINES = 10_000;

const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;

/** Read access to rooms for operators and tools (Maestro v10 had no way to list rooms). */
export function gameRoomsService(d: GameRoomsServiceDeps): Partial<ServiceImpl<typeof GameRoomsService>> {
  const now_ = d.now ?? (() => new Date());
  return {
    listRooms: (req, ctx) =>
      handle(async () => {
        const opts = { signal: ctx.signal };
        const violations: FieldViolation[] = [];
        if (req.status && !roomStatusNames.includes(req.status as RoomStatusName)) {
          violations.push({ field: "status", message: `must be one of ${roomStatusNames.join(", ")}` });
        }
        // Without page or pageSize, every room (what clients written before paging expect).
        const paged = req.page !== undefined || req.pageSize !== undefined;
        const page = req.page ?? 1;
        const pageSize = req.pageSize ?? DEFAULT_PAGE_SIZE;
        if (page < 1) violations.push({ field: "page", message: "must be an integer greater than or equal to 1" });
        if (pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
          violations.push({ field: "pageSize", message: `must be an integer from 1 to ${MAX_PAGE_SIZE}` });
        }
        if (violations.length > 0) throw MaestroError.invalid(violations);
        const scheduler = await d.schedulers.getScheduler(req.schedulerName, opts);
        const [rooms, instances, usage] = await Promise.all([
          d.rooms.listRooms(req.schedulerName, opts),
          d.instances.listInstances(req.schedulerName, opts),
          usageById(d, scheduler, opts),
        ]);
        const byId = new Map(instances.map((i) => [i.id, i]));
        // Oldest first, then by id in code-unit order: the same order on every call, whatever the storage returns.
        const matching = rooms
          .filter((r) => !req.status || r.status === req.status)
          .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
        const now = now_();
        const slice = paged ? matching.slice((page - 1) * pageSize, page * pageSize) : matching;
        return {
          rooms: slice.map((r) => roomToPb(r, byId.get(r.id), now, usage.get(r.id))),
          total: matching.length,
          page,
          pageSize: paged ? pageSize : matching.length,
        };
      }),
    getRoom: (req, ctx) =>
      handle(async () => {
        const opts = { signal: ctx.signal };
        const room = await d.rooms.getRoom(req.schedulerName, req.roomId, opts);
        if (!room) throw MaestroError.notFound(`room ${req.roomId} of scheduler ${req.schedulerName}`);
        const instance = await d.instances.getInstance(req.schedulerName, req.roomId, opts);
        const scheduler = await d.schedulers.getScheduler(req.schedulerName, opts);
        const usage = await usageById(d, scheduler, opts);
        return { room: roomToPb(room, instance, now_(), usage.get(room.id)) };
      }),
    getRoomLog: (req, ctx) =>
      handle(async () => {
        const tail = req.tailLines ?? DEFAULT_TAIL_LINES;
        if (!Number.isInteger(tail) || tail < 1 || tail > MAX_TAIL_LINES) {
          throw MaestroError.invalid([
            { field: "tailLines", message: `must be an integer from 1 to ${MAX_TAIL_LINES}` },
          ]);
        }
        if (!d.roomLog) throw new MaestroError("failed_precondition", "this runtime keeps no room logs");
        const opts = { signal: ctx.signal };
        // Only a scheduler that exists: its name then also names a folder or namespace of ours.
        await d.schedulers.getScheduler(req.schedulerName, opts);
        return d.roomLog(req.schedulerName, req.roomId, tail, opts);
      }),
  };
}

/** Usage is a bonus on a room read: a runtime that cannot answer (kubelet down) must not fail the read. */
async function usageById(
  d: GameRoomsServiceDeps,
  scheduler: Scheduler,
  opts: CallOptions,
): Promise<Map<string, RoomUsage>> {
  if (!d.usage) return new Map();
  try {
    return new Map((await d.usage(scheduler, opts)).map((u) => [u.roomId, u]));
  } catch (err) {
    if (opts.signal?.aborted) throw err;
    return new Map();
  }
}
