import type { CallOptions } from "../../../core/ports/call-options.js";
import type { OperationQueue } from "../../../core/ports/operation-storage.js";
import { canceled, throwIfAborted } from "./abort.js";

interface Waiter {
  resolve(id: string): void;
}

interface SchedulerQueue {
  /** Taken by next() and not yet acked, oldest first; next() hands these out again so a crashed worker loses nothing. */
  reserved: string[];
  pending: string[];
  waiters: Waiter[];
}

/**
 * OperationQueue in process memory, with the semantics of Maestro's Redis lists: enqueue = RPUSH (LPUSH for
 * priority), next = the oldest reserved id or else BLMOVE into the reserved list, ack = LREM from the reserved list.
 */
export class MemoryOperationQueue implements OperationQueue {
  private readonly queues = new Map<string, SchedulerQueue>();

  async enqueue(
    schedulerName: string,
    operationId: string,
    opts?: CallOptions & { priority?: boolean },
  ): Promise<void> {
    throwIfAborted(opts);
    const queue = this.queueOf(schedulerName);
    if (opts?.priority === true) queue.pending.unshift(operationId);
    else queue.pending.push(operationId);
    this.dispatch(queue);
  }

  next(schedulerName: string, opts: Required<CallOptions>): Promise<string> {
    const { signal } = opts;
    if (signal.aborted) return Promise.reject(canceled(signal));
    const queue = this.queueOf(schedulerName);
    const reserved = queue.reserved[0];
    if (reserved !== undefined) return Promise.resolve(reserved);
    const id = queue.pending.shift();
    if (id !== undefined) {
      queue.reserved.push(id);
      return Promise.resolve(id);
    }
    return new Promise<string>((resolve, reject) => {
      const onAbort = () => {
        const index = queue.waiters.indexOf(waiter);
        if (index >= 0) queue.waiters.splice(index, 1);
        reject(canceled(signal));
      };
      const waiter: Waiter = {
        resolve: (taken) => {
          signal.removeEventListener("abort", onAbort);
          resolve(taken);
        },
      };
      queue.waiters.push(waiter);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  async ack(schedulerName: string, operationId: string, opts?: CallOptions): Promise<void> {
    throwIfAborted(opts);
    const queue = this.queues.get(schedulerName);
    if (queue === undefined) return;
    const index = queue.reserved.indexOf(operationId);
    if (index >= 0) queue.reserved.splice(index, 1);
  }

  async pendingIds(schedulerName: string, opts?: CallOptions): Promise<string[]> {
    throwIfAborted(opts);
    const queue = this.queues.get(schedulerName);
    return queue === undefined ? [] : [...queue.reserved, ...queue.pending];
  }

  async clear(schedulerName: string, opts?: CallOptions): Promise<void> {
    throwIfAborted(opts);
    const queue = this.queues.get(schedulerName);
    if (queue === undefined) return;
    // Blocked next() calls keep waiting: a worker outlives a queue reset.
    queue.reserved = [];
    queue.pending = [];
  }

  private queueOf(schedulerName: string): SchedulerQueue {
    let queue = this.queues.get(schedulerName);
    if (queue === undefined) {
      queue = { reserved: [], pending: [], waiters: [] };
      this.queues.set(schedulerName, queue);
    }
    return queue;
  }

  private dispatch(queue: SchedulerQueue): void {
    for (;;) {
      const waiter = queue.waiters[0];
      const id = queue.pending[0];
      if (waiter === undefined || id === undefined) return;
      queue.waiters.shift();
      queue.pending.shift();
      queue.reserved.push(id);
      waiter.resolve(id);
    }
  }
}
