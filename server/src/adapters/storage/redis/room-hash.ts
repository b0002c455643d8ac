import {
  type GameRoom,
  type Instance,
  instanceStatuses,
  type PingStatus,
  pingStatuses,
  RoomStatus,
  type RoomStatusName,
} from "../../../core/entities/game-room.js";
import { metadataPairs } from "../../../core/entities/metadata-selector.js";
import { MaestroError } from "../../../core/errors.js";

// Field names follow Maestro's room hash (snake_case, ping status as its enum number, which is the index in
// pingStatuses); the fields Maestro keeps elsewhere are stored here too, so one HGETALL reads a whole room.

const statusByScore = new Map<string, RoomStatusName>(
  Object.entries(RoomStatus).map(([name, value]) => [String(value), name as RoomStatusName]),
);

export function statusScore(status: RoomStatusName): number {
  return RoomStatus[status];
}

/** A status score as Lua returns it (number or text). */
export function statusByScoreText(score: unknown): RoomStatusName {
  const status = statusByScore.get(String(score));
  if (status === undefined) throw new MaestroError("internal", `unknown room status score ${String(score)}`);
  return status;
}

/** Hash fields of a room, as field/value pairs for HSET. Optional dates left out are absent fields. */
export function encodeRoom(room: GameRoom): string[] {
  const fields = [
    "id",
    room.id,
    "scheduler_name",
    room.schedulerName,
    "version",
    room.version,
    "status",
    String(statusScore(room.status)),
    "ping_status",
    String(pingStatuses.indexOf(room.pingStatus)),
    "metadata",
    JSON.stringify(room.metadata),
    "is_validation_room",
    room.isValidationRoom ? "1" : "0",
    "running_matches",
    String(room.runningMatches),
    "created_at",
    String(room.createdAt.getTime()),
    "last_ping_at",
    String(room.lastPingAt.getTime()),
  ];
  if (room.allocatedAt !== undefined) fields.push("allocated_at", String(room.allocatedAt.getTime()));
  if (room.occupiedAt !== undefined) fields.push("occupied_at", String(room.occupiedAt.getTime()));
  if (room.removing === true) fields.push("removing", "1");
  fields.push("meta_pairs", encodeMetaPairs(room.metadata));
  return fields;
}

/** The `meta_pairs` field: the metadata's selector pairs (allocation index entries) as a JSON array. */
export function encodeMetaPairs(metadata: Record<string, unknown>): string {
  return JSON.stringify(metadataPairs(metadata));
}

/** Undefined for an empty hash (absent room); internal error for a hash this code did not write. */
export function decodeRoom(key: string, hash: Record<string, string>): GameRoom | undefined {
  if (Object.keys(hash).length === 0) return undefined;
  try {
    const room: GameRoom = {
      id: required(hash, "id"),
      schedulerName: required(hash, "scheduler_name"),
      version: required(hash, "version"),
      status: roomStatusOf(required(hash, "status")),
      pingStatus: pingStatusOf(required(hash, "ping_status")),
      metadata: parseMetadata(required(hash, "metadata")),
      isValidationRoom: required(hash, "is_validation_room") === "1",
      runningMatches: integer(required(hash, "running_matches")),
      createdAt: epochMs(required(hash, "created_at")),
      lastPingAt: epochMs(required(hash, "last_ping_at")),
    };
    if (hash["allocated_at"] !== undefined) room.allocatedAt = epochMs(hash["allocated_at"]);
    if (hash["occupied_at"] !== undefined) room.occupiedAt = epochMs(hash["occupied_at"]);
    if (hash["revision"] !== undefined) room.revision = integer(hash["revision"]);
    if (hash["removing"] === "1") room.removing = true;
    return room;
  } catch (e) {
    throw new MaestroError("internal", `malformed room hash ${key}: ${e instanceof Error ? e.message : e}`, {
      cause: e,
    });
  }
}

/** A Lua HGETALL reply (flat field, value, …) as a record. */
export function flatToRecord(reply: unknown): Record<string, string> {
  const items = Array.isArray(reply) ? (reply as unknown[]) : [];
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < items.length; i += 2) record[String(items[i])] = String(items[i + 1]);
  return record;
}

/** The message published on the scheduler's status channel. */
export function encodeStatusEvent(roomId: string, status: RoomStatusName): string {
  return JSON.stringify({ roomId, status });
}

/** Undefined for a message this code did not publish. */
export function decodeStatusEvent(message: string): { roomId: string; status: RoomStatusName } | undefined {
  let parsed: { roomId?: unknown; status?: unknown } | null;
  try {
    parsed = JSON.parse(message) as typeof parsed;
  } catch {
    return undefined;
  }
  const status = parsed?.status;
  if (typeof parsed?.roomId !== "string" || typeof status !== "string" || !Object.hasOwn(RoomStatus, status)) {
    return undefined;
  }
  return { roomId: parsed.roomId, status: status as RoomStatusName };
}

export function encodeInstance(instance: Instance): string {
  return JSON.stringify(instance);
}

export function decodeInstance(key: string, field: string, json: string): Instance {
  try {
    const instance = JSON.parse(json) as Instance;
    if (
      typeof instance?.id !== "string" ||
      typeof instance.schedulerName !== "string" ||
      !instanceStatuses.includes(instance.status?.type)
    ) {
      throw new Error("missing fields");
    }
    return instance;
  } catch (e) {
    throw new MaestroError(
      "internal",
      `malformed instance ${field} in ${key}: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
}

function required(hash: Record<string, string>, field: string): string {
  const value = hash[field];
  if (value === undefined) throw new Error(`missing field ${field}`);
  return value;
}

function roomStatusOf(score: string): RoomStatusName {
  const status = statusByScore.get(score);
  if (status === undefined) throw new Error(`unknown status ${score}`);
  return status;
}

function pingStatusOf(index: string): PingStatus {
  const status = pingStatuses[integer(index)];
  if (status === undefined) throw new Error(`unknown ping status ${index}`);
  return status;
}

function parseMetadata(json: string): Record<string, unknown> {
  const metadata: unknown = JSON.parse(json);
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
    throw new Error("metadata is not an object");
  }
  return metadata as Record<string, unknown>;
}

function integer(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n)) throw new Error(`not an integer: ${text}`);
  return n;
}

function epochMs(text: string): Date {
  const date = new Date(integer(text));
  if (Number.isNaN(date.getTime())) throw new Error(`bad date ${text}`);
  return date;
}
