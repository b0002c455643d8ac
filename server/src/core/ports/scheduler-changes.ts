import type { CallOptions } from "./call-options.js";

/**
 * A counter every process sharing the scheduler storage agrees on, moved after each scheduler write: a process that
 * reads the same generation as when it cached a scheduler knows its copy is current (Redis between processes, memory
 * in one process).
 */
export interface SchedulerChanges {
  /** The current generation; changes whenever a scheduler write was announced since the last call. */
  generation(opts?: CallOptions): Promise<string>;
  /** Announces a committed scheduler write; once it resolves, every generation() call anywhere sees a new value. */
  announce(opts?: CallOptions): Promise<void>;
}
