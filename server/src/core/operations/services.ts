import type { Autoscaler } from "../autoscaling/autoscaler.js";
import type { SchedulerTypes } from "../entities/scheduler-validation.js";
import type { Clock } from "../ports/clock.js";
import type { Logger } from "../ports/logger.js";
import type { OperationQueue, OperationStorage } from "../ports/operation-storage.js";
import type { InstanceStorage, RoomStorage } from "../ports/room-storage.js";
import type { Runtime } from "../ports/runtime.js";
import type { ScalePointStorage } from "../ports/scale-points.js";
import type { SchedulerStorage } from "../ports/scheduler-storage.js";
import type { OperationManager } from "../services/operation-manager.js";
import type { RoomManager } from "../services/room-manager.js";
import type { RoomTimeouts } from "../services/timeouts.js";

/** Limits of Maestro's operations.rooms.* settings. */
export interface RoomOperationLimits {
  /** Most rooms one add_rooms creates (the health controller comes back for the rest). */
  addLimit: number;
  /** Rooms created concurrently. */
  addBatchSize: number;
  /** Most rooms one remove_rooms deletes by amount. */
  removeLimit: number;
}

/** How a major version's validation room is tried (Maestro's roomValidationTimeout / roomValidationAttempts). */
export interface ValidationSettings {
  /** How long one validation room has to become ready. */
  timeoutMs: number;
  /** Validation rooms tried before the new version is refused. */
  attempts: number;
}

export const defaultValidationSettings: ValidationSettings = { timeoutMs: 120_000, attempts: 3 };

export const defaultRoomOperationLimits: RoomOperationLimits = { addLimit: 1000, addBatchSize: 40, removeLimit: 50 };

/** What operation executors may use. */
export interface OperationServices {
  autoscaler: Autoscaler;
  schedulers: SchedulerStorage;
  rooms: RoomStorage;
  instances: InstanceStorage;
  runtime: Runtime;
  /** History of the metricsTriggers policy, forgotten with the scheduler. */
  scalePoints?: ScalePointStorage | undefined;
  roomManager: RoomManager;
  operationManager: OperationManager;
  operationStorage: OperationStorage;
  queue: OperationQueue;
  clock: Clock;
  logger: Logger;
  timeouts: RoomTimeouts;
  limits: RoomOperationLimits;
  validation: ValidationSettings;
  /** Forwarder and policy types a new version may name; built-in ones when omitted. */
  schedulerTypes?: SchedulerTypes | undefined;
  /** Told when a scheduler's active version changed, so caches of it (rooms API, forwarding) drop it at once. */
  onActiveVersionChanged?: ((schedulerName: string) => void) | undefined;
}
