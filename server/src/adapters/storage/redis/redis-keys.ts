import type { OperationStage } from "../../../core/entities/operation.js";

// Key names follow Maestro's (reference §6.2), so its runbooks and redis-cli habits carry over, except that the
// scheduler name is wrapped in a Redis Cluster hash tag (`{name}`): every key of one scheduler hashes to the same slot,
// so each Lua script, which touches only keys of one scheduler and receives them all through KEYS, runs on a cluster.
// Scheduler names are RFC 1123 labels, so they never contain a brace themselves.

/** The hash tag of a scheduler: the part of its keys Redis Cluster hashes. */
export function schedulerTag(schedulerName: string): string {
  return `{${schedulerName}}`;
}

const stageSet: Record<OperationStage, string> = { pending: "pending", active: "active", final: "history" };

export const operationStages: readonly OperationStage[] = ["pending", "active", "final"];

export function operationHashKey(schedulerName: string, operationId: string): string {
  return `operations:${schedulerTag(schedulerName)}:${operationId}`;
}

/** Sorted set of the ids of one stage, scored by creation time in epoch ms. */
export function operationStageKey(schedulerName: string, stage: OperationStage): string {
  return `operations:${schedulerTag(schedulerName)}:lists:${stageSet[stage]}`;
}

/** The stage set of `stage` first, then the two others. */
export function stageKeysFirst(schedulerName: string, stage: OperationStage): [string, string, string] {
  const others = operationStages.filter((s) => s !== stage).map((s) => operationStageKey(schedulerName, s));
  return [operationStageKey(schedulerName, stage), others[0] as string, others[1] as string];
}

export function allStageKeys(schedulerName: string): [string, string, string] {
  return stageKeysFirst(schedulerName, "pending");
}

/** Sorted set of operation ids scored by lease expiry in epoch ms. */
export function leaseKey(schedulerName: string): string {
  return `operations:${schedulerTag(schedulerName)}:operationsLease`;
}

/** Hash of operation id → `<fencing token>|<owner>` of its lease; the expiry lives in the lease set. */
export function leaseHolderKey(schedulerName: string): string {
  return `operations:${schedulerTag(schedulerName)}:operationsLeaseHolders`;
}

/** Counter that hands out the scheduler's lease fencing tokens (INCR: never reused, always growing). */
export function leaseFenceKey(schedulerName: string): string {
  return `operations:${schedulerTag(schedulerName)}:operationsLeaseFence`;
}

/** The keys a fenced write checks, in the order `lease-fence.lua` expects them. */
export function leaseKeys(schedulerName: string): [string, string] {
  return [leaseKey(schedulerName), leaseHolderKey(schedulerName)];
}

/** String a replica sets when it has aborted an operation it was asked to cancel (read by the canceler). */
export function cancelAckKey(schedulerName: string, requestId: string): string {
  return `operations:${schedulerTag(schedulerName)}:cancelAck:${requestId}`;
}

export function queueKey(schedulerName: string): string {
  return `pending_operations:${schedulerTag(schedulerName)}`;
}

/** The in-flight list: ids taken by next() and not yet acked. */
export function queueAuxiliaryKey(schedulerName: string): string {
  return `pending_operations:${schedulerTag(schedulerName)}:auxiliary`;
}

/**
 * Set of `<scheduler> <operation id>` of delete_scheduler operations that may outlive their scheduler's record. Not
 * under a scheduler's hash tag: it is read across schedulers, one key, one slot.
 */
export const schedulerDeletionsKey = "operations:schedulerDeletions";

export const cancellationChannel = "scheduler:operation_cancellation_requests";

/** Counter that orders operations created within the same millisecond. */
export function operationSequenceKey(schedulerName: string): string {
  return `operations:${schedulerTag(schedulerName)}:sequence`;
}

/** Hash of one room: every GameRoom field, dates in epoch ms. */
export function roomHashKey(schedulerName: string, roomId: string): string {
  return `${roomHashPrefix(schedulerName)}${roomId}`;
}

function roomHashPrefix(schedulerName: string): string {
  return `scheduler:${schedulerTag(schedulerName)}:rooms:`;
}

/** Sorted set of room ids scored by status number: the source of truth for listing and counting rooms. */
export function roomStatusKey(schedulerName: string): string {
  return `scheduler:${schedulerTag(schedulerName)}:status`;
}

/** Sorted set of room ids scored by last ping in epoch ms. */
export function roomPingKey(schedulerName: string): string {
  return `scheduler:${schedulerTag(schedulerName)}:ping`;
}

/** Sorted set of room ids scored by running matches. */
export function roomOccupancyKey(schedulerName: string): string {
  return `scheduler:${schedulerTag(schedulerName)}:occupancy`;
}

/**
 * Allocation index: sorted set of the ids of rooms that can take a match now, scored by minus the matches they hold
 * (ready rooms 0): the fullest first, then by id.
 */
export function roomFreeKey(schedulerName: string): string {
  return `scheduler:${schedulerTag(schedulerName)}:free`;
}

/**
 * Allocation index by metadata: sorted set (all scores 0, read by lexicographic range) of `<pair>\0<rank>\0<id>` for
 * every scalar metadata pair of every room in the free set (pairs as `selectorPair` writes them).
 */
export function roomFreeMetadataKey(schedulerName: string): string {
  return `scheduler:${schedulerTag(schedulerName)}:free:metadata`;
}

/** String remembering which room an allocation idempotency key got, with a PX expiry of the allocation TTL. */
export function roomAllocationKey(schedulerName: string, idempotencyKey: string): string {
  return `scheduler:${schedulerTag(schedulerName)}:allocation:${idempotencyKey}`;
}

/** PUB/SUB channel of `{roomId,status}` messages for every status change of a scheduler's rooms. */
export function roomStatusChannel(schedulerName: string): string {
  return `scheduler:${schedulerTag(schedulerName)}:rooms:statuschan`;
}

/** Hash of room id → Instance JSON. */
export function instanceMapKey(schedulerName: string): string {
  return `scheduler:${schedulerTag(schedulerName)}:podMap`;
}

/** List of `<epoch ms>:<fraction>` utilization points of one type, newest first (metricsTriggers policy). */
export function scalePointsKey(schedulerName: string, type: string): string {
  return `scheduler:${schedulerTag(schedulerName)}:scale:${type}`;
}

/** Epoch ms of the scheduler's last autoscaler scale, which both trigger directions' cooldowns count from. */
export function lastScaleKey(schedulerName: string): string {
  return `scheduler:${schedulerTag(schedulerName)}:scale:last`;
}

/** Generation counter of the scheduler definitions (SQL), moved on every write so processes drop cached copies. */
export const schedulerChangesKey = "schedulers:generation";

/** Hash of room id → the end of the log of one of the scheduler's last crashed rooms. */
export function crashedLogsKey(schedulerName: string): string {
  return `scheduler:${schedulerTag(schedulerName)}:crashedLogs`;
}

/** Sorted set of the room ids in crashedLogsKey, scored by when their tail was kept (epoch ms). */
export function crashedLogOrderKey(schedulerName: string): string {
  return `scheduler:${schedulerTag(schedulerName)}:crashedLogs:order`;
}
