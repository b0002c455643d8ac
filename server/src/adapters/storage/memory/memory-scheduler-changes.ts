import type { CallOptions } from "../../../core/ports/call-options.js";
import type { SchedulerChanges } from "../../../core/ports/scheduler-changes.js";
import { throwIfAborted } from "./abort.js";

/** SchedulerChanges for one process (the embedded default): the counter lives here. */
export class MemorySchedulerChanges implements SchedulerChanges {
  private counter = 0;

  async generation(opts?: CallOptions): Promise<string> {
    throwIfAborted(opts);
    return String(this.counter);
  }

  async announce(opts?: CallOptions): Promise<void> {
    throwIfAborted(opts);
    this.counter++;
  }
}
