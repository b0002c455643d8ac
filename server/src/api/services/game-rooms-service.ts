import type { ServiceImpl } from "@connectrpc/connect";
import type { GameRoomsService } from "@maestro/proto";
import { type RoomStatusName, roomStatusNames } from "../../core/entities/game-room.js";
import { MaestroError } from "../../core/errors.js";
import type { InstanceStorage, RoomStorage } from "../../core/ports/room-storage.js";
import type { SchedulerStorage } from "../../core/ports/scheduler-storage.js";
import { roomToPb } from "../convert/room-convert.js";
import { handle } from "../errors.js";

export interface GameRoomsServiceDeps {
  schedulers: SchedulerStorage;
  rooms: RoomStorage;
  instances: InstanceStorage;
}

/** Read access to rooms for operators and tools (Maestro v10 had no way to list rooms). */
export function gameRoomsService(d: GameRoomsServiceDeps): Partial<ServiceImpl<typeof GameRoomsService>> {
  return {
    listRooms: (req, ctx) =>
      handle(async () => {
        const opts = { signal: ctx.signal };
        if (req.status && !roomStatusNames.includes(req.status as RoomStatusName)) {
          throw MaestroError.invalid([{ field: "status", message: `must be one of ${roomStatusNames.join(", ")}` }]);
        }
        await d.schedulers.getScheduler(req.schedulerName, opts);
        const [rooms, instances] = await Promise.all([
          d.rooms.listRooms(req.schedulerName, opts),
          d.instances.listInstances(req.schedulerName, opts),
        ]);
        const byId = new Map(instances.map((i) => [i.id, i]));
        return {
          rooms: rooms
            .filter((r) => !req.status || r.status === req.status)
            .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id))
            .map((r) => roomToPb(r, byId.get(r.id))),
        };
      }),
    getRoom: (req, ctx) =>
      handle(async () => {
        const opts = { signal: ctx.signal };
        const room = await d.rooms.getRoom(req.schedulerName, req.roomId, opts);
        if (!room) throw MaestroError.notFound(`room ${req.roomId} of scheduler ${req.schedulerName}`);
        return { room: roomToPb(room, await d.instances.getInstance(req.schedulerName, req.roomId, opts)) };
      }),
  };
}
