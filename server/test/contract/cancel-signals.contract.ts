import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { CancelRequest, CancelSignals } from "../../src/core/ports/cancel-signals.js";
import { expectCode, uniqueScheduler } from "../support/contract-helpers.js";
import { waitFor } from "../support/core-harness.js";

/**
 * The CancelSignals contract, for every adapter (memory, Redis). The factory is called once per suite. Delivery is
 * asynchronous, so tests wait for what must arrive and use a second, still subscribed receiver as the witness that
 * something must not: once the witness has a later request, the stopped one would have had it too.
 */
export function cancelSignalsContract(name: string, factory: () => CancelSignals | Promise<CancelSignals>) {
  describe(`CancelSignals contract: ${name}`, () => {
    let signals: CancelSignals;
    const controllers: AbortController[] = [];

    beforeAll(async () => {
      signals = await factory();
    });

    afterEach(async () => {
      for (const controller of controllers.splice(0)) controller.abort();
      // A Redis subscriber leaves the server shortly after its signal aborts; counts in the next test must start at 0.
      await waitFor(async () => (await signals.publish(uniqueScheduler(), "probe")) === 0, "subscribers to go away");
    });

    /** Subscribes a recorder and resolves once it is subscribed. */
    async function subscribed(): Promise<{ received: CancelRequest[]; controller: AbortController }> {
      const controller = new AbortController();
      controllers.push(controller);
      const received: CancelRequest[] = [];
      await signals.subscribe(
        (request) => {
          received.push(request);
        },
        { signal: controller.signal },
      );
      return { received, controller };
    }

    it("publish with no subscriber resolves with 0", async () => {
      expect(await signals.publish(uniqueScheduler(), "op-1")).toBe(0);
    });

    it("delivers requests published after subscribe resolves, in order", async () => {
      const { received } = await subscribed();
      const scheduler = uniqueScheduler();
      expect(await signals.publish(scheduler, "op-1")).toBe(1);
      expect(await signals.publish(scheduler, "op-2")).toBe(1);
      await waitFor(() => received.length === 2, "both requests");
      expect(received).toEqual([
        { schedulerName: scheduler, operationId: "op-1" },
        { schedulerName: scheduler, operationId: "op-2" },
      ]);
    });

    it("delivers every request to every subscriber", async () => {
      const first = await subscribed();
      const second = await subscribed();
      const a = uniqueScheduler();
      const b = uniqueScheduler();
      expect(await signals.publish(a, "op-1")).toBe(2);
      expect(await signals.publish(b, "op-2")).toBe(2);
      const expected = [
        { schedulerName: a, operationId: "op-1" },
        { schedulerName: b, operationId: "op-2" },
      ];
      await waitFor(() => first.received.length === 2 && second.received.length === 2, "both requests on both");
      expect(first.received).toEqual(expected);
      expect(second.received).toEqual(expected);
    });

    it("stops delivering to a subscriber once its signal aborts", async () => {
      const stopped = await subscribed();
      const witness = await subscribed();
      const scheduler = uniqueScheduler();
      await signals.publish(scheduler, "before");
      await waitFor(() => stopped.received.length === 1 && witness.received.length === 1, "the first request");

      stopped.controller.abort();
      await signals.publish(scheduler, "after");
      await waitFor(() => witness.received.length === 2, "the witness to get the second request");
      expect(witness.received[1]).toEqual({ schedulerName: scheduler, operationId: "after" });
      expect(stopped.received).toEqual([{ schedulerName: scheduler, operationId: "before" }]);
      await waitFor(async () => (await signals.publish(uniqueScheduler(), "probe")) === 1, "only the witness to count");
    });

    it("keeps delivering after a handler throws or rejects", async () => {
      const controller = new AbortController();
      controllers.push(controller);
      const received: string[] = [];
      await signals.subscribe(
        (request) => {
          received.push(request.operationId);
          if (request.operationId === "throws") throw new Error("handler failed");
          if (request.operationId === "rejects") return Promise.reject(new Error("handler failed"));
        },
        { signal: controller.signal },
      );
      const scheduler = uniqueScheduler();
      await signals.publish(scheduler, "throws");
      await signals.publish(scheduler, "rejects");
      await signals.publish(scheduler, "fine");
      await waitFor(() => received.length === 3, "all three requests");
      expect(received).toEqual(["throws", "rejects", "fine"]);
    });

    it("rejects subscribe and publish with an aborted signal as canceled", async () => {
      const received: CancelRequest[] = [];
      await expectCode(
        signals.subscribe((request) => void received.push(request), { signal: AbortSignal.abort() }),
        "canceled",
      );
      await expectCode(signals.publish(uniqueScheduler(), "op-1", { signal: AbortSignal.abort() }), "canceled");
      // The refused subscription must not linger as a receiver.
      expect(await signals.publish(uniqueScheduler(), "op-2")).toBe(0);
      expect(received).toEqual([]);
    });

    it("request: false at once with nobody listening", async () => {
      expect(await signals.request(uniqueScheduler(), "op-1", { waitMs: 60_000 })).toBe(false);
    });

    it("request: true once the subscriber that runs the operation acknowledges it; others' answers do not count", async () => {
      const controller = new AbortController();
      controllers.push(controller);
      const bystander = await subscribed();
      const runs = new Set(["op-running"]);
      await signals.subscribe(({ operationId }) => Promise.resolve(runs.delete(operationId)), {
        signal: controller.signal,
      });
      const scheduler = uniqueScheduler();
      expect(await signals.request(scheduler, "op-running", { waitMs: 60_000 })).toBe(true);
      expect(runs.size).toBe(0);
      // Heard by both, acknowledged by none: false once the wait is over.
      expect(await signals.request(scheduler, "op-elsewhere", { waitMs: 200 })).toBe(false);
      await waitFor(() => bystander.received.length === 2, "the bystander to hear both");
    });
  });
}
