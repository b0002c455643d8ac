/**
 * Room statuses. The numeric values are Maestro's (they are Redis ZSET scores there), so keep them stable.
 */
export const RoomStatus = {
  pending: 0,
  unready: 1,
  ready: 2,
  occupied: 3,
  terminating: 4,
  error: 5,
  terminated: 6,
  active: 7,
  allocated: 8,
} as const;
export type RoomStatusName = keyof typeof RoomStatus;
export const roomStatusNames = Object.keys(RoomStatus) as RoomStatusName[];

/** What the room itself last said in a ping; `unknown` until the first ping. */
export const pingStatuses = ["unknown", "ready", "occupied", "terminating", "terminated"] as const;
export type PingStatus = (typeof pingStatuses)[number];

export interface GameRoom {
  id: string;
  schedulerName: string;
  /** Scheduler version the room was created from. */
  version: string;
  status: RoomStatusName;
  pingStatus: PingStatus;
  metadata: Record<string, unknown>;
  isValidationRoom: boolean;
  runningMatches: number;
  createdAt: Date;
  lastPingAt: Date;
  allocatedAt?: Date | undefined;
  /** When the room entered `occupied`; drives occupiedTimeout. */
  occupiedAt?: Date | undefined;
  /**
   * Set by storage, grows on every write of the room (a compare-and-set token, like Kubernetes' resourceVersion).
   * `updateRoom` with a revision replaces the room only if it is still the stored one.
   */
  revision?: number | undefined;
  /**
   * Claimed for removal (`claimForRemoval`): never allocatable again, and pings no longer bring it back to ready.
   */
  removing?: boolean | undefined;
}

export const instanceStatuses = ["unknown", "pending", "ready", "terminating", "error"] as const;
export type InstanceStatusType = (typeof instanceStatuses)[number];

/** The runtime's view of a room: a pod or a child process. */
export interface Instance {
  id: string;
  schedulerName: string;
  status: { type: InstanceStatusType; description: string };
  address?: InstanceAddress | undefined;
  resourceVersion?: string | undefined;
  /** Process ids of the room's processes, one per container: what `kill <pid>` needs (process runtime only). */
  pids?: number[] | undefined;
  /** The `identity` of the runtime that runs it, for runtimes whose rooms die with their server. */
  owner?: string | undefined;
}

export interface InstanceAddress {
  host: string;
  ports: InstancePort[];
}

export interface InstancePort {
  name: string;
  port: number;
  protocol: string;
}

export type InstanceEvent = { type: "added" | "updated"; instance: Instance } | { type: "deleted"; instance: Instance };

/**
 * Ping × instance → room status (Maestro's roomStatusComposition). The table is read first-match-wins in Maestro, which
 * makes an unknown ping on a pending instance `pending`; we keep that.
 */
export function composeRoomStatus(ping: PingStatus, instance: InstanceStatusType): RoomStatusName {
  if (instance === "error") return "error";
  if (ping === "terminated") return "terminated";
  if (ping === "terminating" || instance === "terminating") return "terminating";
  if (instance === "unknown" || instance === "pending") return "pending";
  // instance ready
  if (ping === "unknown") return "unready";
  return ping;
}

/**
 * Maestro's validStatusTransitions, plus pending → active: a multi-match room may report running matches before its
 * instance is ready, and without it the room would stay pending (refusing every ping) until it expired. Maestro
 * allows the equivalent pending → occupied.
 */
const validTransitions: Record<RoomStatusName, readonly RoomStatusName[]> = {
  pending: ["ready", "terminating", "unready", "error", "occupied", "active"],
  ready: ["occupied", "allocated", "terminating", "unready", "error", "active"],
  unready: ["terminating", "occupied", "ready", "error", "pending", "active"],
  active: ["ready", "occupied", "terminating", "unready", "error"],
  occupied: ["ready", "terminating", "unready", "error", "active"],
  allocated: ["active", "occupied", "ready", "terminating", "unready", "error"],
  error: ["terminating", "unready", "ready"],
  terminating: ["error", "unready", "ready", "terminated"],
  terminated: [],
};

export function isValidTransition(from: RoomStatusName, to: RoomStatusName): boolean {
  return from === to || validTransitions[from].includes(to);
}

/**
 * Final status of a room given its composed status and match counts (Maestro's single/multiple match calculators):
 * an allocation holds a ready room for `allocationTtlMs`; multi-match rooms are ready/active/occupied by running matches.
 */
export function calculateRoomStatus(
  room: Pick<GameRoom, "status" | "pingStatus" | "runningMatches" | "allocatedAt">,
  instance: InstanceStatusType,
  opts: { maxMatches: number; now: Date; allocationTtlMs: number },
): RoomStatusName {
  const composed = composeRoomStatus(room.pingStatus, instance);
  if (
    composed === "ready" &&
    room.status === "allocated" &&
    room.allocatedAt !== undefined &&
    opts.now.getTime() - room.allocatedAt.getTime() <= opts.allocationTtlMs
  ) {
    return "allocated";
  }
  if (opts.maxMatches <= 1 || (composed !== "ready" && composed !== "occupied")) return composed;
  if (room.runningMatches < 1) return "ready";
  if (room.runningMatches >= opts.maxMatches) return "occupied";
  return "active";
}
