import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { OperationQueue } from "../../src/core/ports/operation-storage.js";
import { expectCode, uniqueScheduler } from "../support/contract-helpers.js";

/**
 * The OperationQueue contract, for every adapter (memory, Redis). The factory is called once per suite; tests use
 * scheduler names of their own.
 */
export function operationQueueContract(name: string, factory: () => OperationQueue | Promise<OperationQueue>) {
  describe(`OperationQueue contract: ${name}`, () => {
    let queue: OperationQueue;
    const controllers: AbortController[] = [];

    beforeAll(async () => {
      queue = await factory();
    });

    afterEach(() => {
      for (const controller of controllers.splice(0)) controller.abort();
    });

    /** A signal aborted after the test, so a next() left blocked does not outlive it. */
    function signal(): AbortSignal {
      const controller = new AbortController();
      controllers.push(controller);
      return controller.signal;
    }

    it("hands out ids first in, first out", async () => {
      const scheduler = uniqueScheduler();
      for (const id of ["a", "b", "c"]) await queue.enqueue(scheduler, id);
      expect(await queue.pendingIds(scheduler)).toEqual(["a", "b", "c"]);
      const taken: string[] = [];
      for (let i = 0; i < 3; i++) {
        const id = await queue.next(scheduler, { signal: signal() });
        taken.push(id);
        await queue.ack(scheduler, id);
      }
      expect(taken).toEqual(["a", "b", "c"]);
      expect(await queue.pendingIds(scheduler)).toEqual([]);
    });

    it("puts a priority id at the head", async () => {
      const scheduler = uniqueScheduler();
      await queue.enqueue(scheduler, "a");
      await queue.enqueue(scheduler, "b");
      await queue.enqueue(scheduler, "urgent", { priority: true });
      expect(await queue.pendingIds(scheduler)).toEqual(["urgent", "a", "b"]);
      expect(await queue.next(scheduler, { signal: signal() })).toBe("urgent");
    });

    it("keeps a taken id reserved, and listed first, until it is acked", async () => {
      const scheduler = uniqueScheduler();
      await queue.enqueue(scheduler, "a");
      await queue.enqueue(scheduler, "b");
      expect(await queue.next(scheduler, { signal: signal() })).toBe("a");
      // A worker that died before ack: its successor gets the same id again.
      expect(await queue.next(scheduler, { signal: signal() })).toBe("a");
      await queue.enqueue(scheduler, "urgent", { priority: true });
      expect(await queue.pendingIds(scheduler)).toEqual(["a", "urgent", "b"]);
      await queue.ack(scheduler, "a");
      expect(await queue.pendingIds(scheduler)).toEqual(["urgent", "b"]);
      expect(await queue.next(scheduler, { signal: signal() })).toBe("urgent");
    });

    it("ignores an ack of an id that is not reserved", async () => {
      const scheduler = uniqueScheduler();
      await queue.enqueue(scheduler, "a");
      await queue.ack(scheduler, "unknown");
      await queue.ack(uniqueScheduler(), "a");
      expect(await queue.pendingIds(scheduler)).toEqual(["a"]);
    });

    it("blocks next until an id is enqueued", async () => {
      const scheduler = uniqueScheduler();
      const taken = track(queue.next(scheduler, { signal: signal() }));
      await pause();
      expect(taken.settled()).toBe(false);
      await queue.enqueue(scheduler, "late");
      expect(await taken.promise).toBe("late");
      expect(await queue.pendingIds(scheduler)).toEqual(["late"]);
    });

    it("wakes only the waiter of the scheduler that got an id", async () => {
      const first = uniqueScheduler();
      const second = uniqueScheduler();
      const firstTaken = track(queue.next(first, { signal: signal() }));
      const secondTaken = track(queue.next(second, { signal: signal() }));
      await pause();
      await queue.enqueue(second, "for-second");
      expect(await secondTaken.promise).toBe("for-second");
      await pause();
      expect(firstTaken.settled()).toBe(false);
      expect(await queue.pendingIds(first)).toEqual([]);
    });

    it("rejects a blocked next with canceled when its signal aborts, without losing later ids", async () => {
      const scheduler = uniqueScheduler();
      const controller = new AbortController();
      const taken = queue.next(scheduler, { signal: controller.signal });
      await pause();
      controller.abort();
      await expectCode(taken, "canceled");
      await queue.enqueue(scheduler, "after-abort");
      expect(await queue.pendingIds(scheduler)).toEqual(["after-abort"]);
      expect(await queue.next(scheduler, { signal: signal() })).toBe("after-abort");
    });

    it("rejects next with canceled when the signal is already aborted, leaving the queue as it was", async () => {
      const scheduler = uniqueScheduler();
      await queue.enqueue(scheduler, "a");
      await expectCode(queue.next(scheduler, { signal: AbortSignal.abort() }), "canceled");
      expect(await queue.pendingIds(scheduler)).toEqual(["a"]);
    });

    it("clear drops waiting and reserved ids; a blocked next still gets later ids", async () => {
      const scheduler = uniqueScheduler();
      await queue.enqueue(scheduler, "a");
      await queue.enqueue(scheduler, "b");
      expect(await queue.next(scheduler, { signal: signal() })).toBe("a");
      await queue.clear(scheduler);
      expect(await queue.pendingIds(scheduler)).toEqual([]);
      const taken = track(queue.next(scheduler, { signal: signal() }));
      await pause();
      expect(taken.settled()).toBe(false);
      await queue.enqueue(scheduler, "c");
      expect(await taken.promise).toBe("c");
      await queue.clear(uniqueScheduler());
    });

    it("keeps schedulers apart", async () => {
      const first = uniqueScheduler();
      const second = uniqueScheduler();
      await queue.enqueue(first, "x");
      await queue.enqueue(second, "y");
      expect(await queue.pendingIds(first)).toEqual(["x"]);
      expect(await queue.next(second, { signal: signal() })).toBe("y");
      await queue.clear(second);
      expect(await queue.pendingIds(first)).toEqual(["x"]);
    });

    it("rejects calls with an aborted signal as canceled", async () => {
      const scheduler = uniqueScheduler();
      await expectCode(queue.enqueue(scheduler, "a", { signal: AbortSignal.abort() }), "canceled");
      expect(await queue.pendingIds(scheduler)).toEqual([]);
    });
  });
}

function track<T>(promise: Promise<T>): { promise: Promise<T>; settled(): boolean } {
  let settled = false;
  const observed = promise.finally(() => {
    settled = true;
  });
  observed.catch(() => {});
  return { promise: observed, settled: () => settled };
}

/** Gives a wrongly non-blocking next() the chance to settle; nothing is asserted about how long anything takes. */
function pause(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 50));
}
