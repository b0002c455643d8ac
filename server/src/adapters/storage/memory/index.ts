export { MemoryCancelSignals } from "./memory-cancel-signals.js";
export { MemoryInstanceStorage } from "./memory-instance-storage.js";
export { MemoryLeaseStorage } from "./memory-lease-storage.js";
export { MemoryOperationQueue } from "./memory-operation-queue.js";
export { MemoryOperationStorage } from "./memory-operation-storage.js";
export { MemoryRoomStorage } from "./memory-room-storage.js";
export { MemorySchedulerOwnership } from "./memory-scheduler-ownership.js";
export { MemorySchedulerStorage } from "./memory-scheduler-storage.js";
