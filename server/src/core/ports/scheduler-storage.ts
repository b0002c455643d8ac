import type { Scheduler, SchedulerFilter, SchedulerVersion } from "../entities/scheduler.js";
import type { CallOptions } from "./call-options.js";

/**
 * Durable store of schedulers and their versions. The active scheduler is the one whose version is marked active;
 * every version ever created is kept until the scheduler is deleted.
 */
export interface SchedulerStorage {
  /** The active version; throws not_found. */
  getScheduler(name: string, opts?: CallOptions): Promise<Scheduler>;
  /** A given version; throws not_found. */
  getSchedulerVersion(name: string, version: string, opts?: CallOptions): Promise<Scheduler>;
  /** Active schedulers matching the filter (version filters on the active version), ordered by name. */
  listSchedulers(filter?: SchedulerFilter, opts?: CallOptions): Promise<Scheduler[]>;
  /** Names of every scheduler (workers use this to decide what to run). */
  listSchedulerNames(opts?: CallOptions): Promise<string[]>;
  /** Inserts the scheduler and its first version (active); throws already_exists. */
  createScheduler(scheduler: Scheduler, opts?: CallOptions): Promise<void>;
  /** Adds a non-active version; throws already_exists if that version exists, not_found if the scheduler does not. */
  createSchedulerVersion(scheduler: Scheduler, opts?: CallOptions): Promise<void>;
  /** Makes `version` the active one; throws not_found. */
  switchActiveVersion(name: string, version: string, opts?: CallOptions): Promise<void>;
  /**
   * Updates the stored fields of an existing version in place (state, lastDownscaleAt…), without creating a version.
   * Throws not_found.
   */
  updateScheduler(scheduler: Scheduler, opts?: CallOptions): Promise<void>;
  /** Versions, newest first; throws not_found when the scheduler does not exist. */
  listVersions(name: string, opts?: CallOptions): Promise<SchedulerVersion[]>;
  /** Deletes the scheduler and all its versions; throws not_found. */
  deleteScheduler(name: string, opts?: CallOptions): Promise<void>;
  close(): Promise<void>;
}
