export { type CancelHandler, type CancelRequest, RedisCancelSignals } from "./redis-cancel-signals.js";
export {
  createRedisClient,
  dedicatedConnection,
  type RedisClient,
  type RedisClientOptions,
  waitUntilReady,
} from "./redis-client.js";
export { RedisCrashedRoomLogs } from "./redis-crashed-room-logs.js";
export { toMaestroError as redisErrorToMaestro } from "./redis-errors.js";
export { RedisInstanceStorage } from "./redis-instance-storage.js";
export { RedisLeaseStorage } from "./redis-lease-storage.js";
export { RedisOperationQueue, type RedisOperationQueueOptions } from "./redis-operation-queue.js";
export {
  highVolumeOperations,
  highVolumeOperationTtl,
  RedisOperationStorage,
  type RedisOperationStorageOptions,
} from "./redis-operation-storage.js";
export { RedisRoomStorage } from "./redis-room-storage.js";
export { RedisScalePoints } from "./redis-scale-points.js";
export { RedisSchedulerChanges } from "./redis-scheduler-changes.js";
export { RedisSchedulerOwnership, schedulerOwnerKey } from "./redis-scheduler-ownership.js";
