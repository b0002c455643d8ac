import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { GameRoomSchema } from "@maestro/proto";
import type { GameRoom, Instance } from "../../core/entities/game-room.js";
import type { RoomUsage } from "../../core/entities/room-usage.js";

/** `now` gives the ping age (seconds since the last ping, never negative). */
export function roomToPb(
  room: GameRoom,
  instance: Instance | undefined,
  now: Date = new Date(),
  usage?: RoomUsage | undefined,
) {
  return create(GameRoomSchema, {
    id: room.id,
    schedulerName: room.schedulerName,
    version: room.version,
    status: room.status,
    pingStatus: room.pingStatus,
    runningMatches: room.runningMatches,
    metadata: room.metadata as never,
    isValidationRoom: room.isValidationRoom,
    createdAt: timestampFromDate(room.createdAt),
    lastPingAt: timestampFromDate(room.lastPingAt),
    allocatedAt: room.allocatedAt && timestampFromDate(room.allocatedAt),
    host: instance?.address?.host ?? "",
    ports: instance?.address?.ports ?? [],
    instanceStatus: instance?.status.type ?? "unknown",
    instanceStatusDescription: instance?.status.description ?? "",
    pids: instance?.pids ?? [],
    pingAgeSeconds: Math.max(0, now.getTime() - room.lastPingAt.getTime()) / 1000,
    usage: usage && {
      cpuMillicores: usage.cpuMillicores,
      memoryBytes: usage.memoryBytes,
      cpuRequestMillicores: usage.cpuRequestMillicores,
      memoryRequestBytes: usage.memoryRequestBytes,
      sampledAt: timestampFromDate(usage.sampledAt),
    },
  });
}
