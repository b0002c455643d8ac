import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import type { Operation, OperationStage, OperationStatusName } from "../../src/core/entities/operation.js";
import type { LeaseStorage, OperationStorage, SchedulerDeletion } from "../../src/core/ports/operation-storage.js";
import { expectCode, uniqueScheduler } from "../support/contract-helpers.js";

interface Stores {
  storage: OperationStorage;
  /** The lease storage whose tokens fence the storage's writes (same backend). */
  leases: LeaseStorage;
}

/**
 * The OperationStorage contract, for every adapter (memory, Redis). The factory is called once per suite; tests use
 * scheduler names of their own. Dates keep millisecond precision.
 */
export function operationStorageContract(name: string, factory: () => Stores | Promise<Stores>) {
  describe(`OperationStorage contract: ${name}`, () => {
    let storage: OperationStorage;
    let leases: LeaseStorage;

    beforeAll(async () => {
      ({ storage, leases } = await factory());
    });

    describe("createOperation / getOperation", () => {
      it("returns what was created", async () => {
        const scheduler = uniqueScheduler();
        const op: Operation = {
          ...operation(scheduler, 1),
          definitionName: "switch_active_version",
          input: { version: "v2.0.0", nested: { list: [1, "two", null, true], n: 1.25 } },
          executionHistory: [
            { createdAt: at(1), event: "Created" },
            { createdAt: at(2), event: "Started" },
          ],
        };
        await storage.createOperation(op);
        expect(await storage.getOperation(scheduler, op.id)).toEqual(op);
      });

      it("returns undefined for an unknown operation and keeps schedulers apart", async () => {
        const scheduler = uniqueScheduler();
        const op = operation(scheduler, 1);
        await storage.createOperation(op);
        expect(await storage.getOperation(scheduler, randomUUID())).toBeUndefined();
        expect(await storage.getOperation(uniqueScheduler(), op.id)).toBeUndefined();
      });

      it("throws already_exists for an existing id and keeps the stored operation", async () => {
        const scheduler = uniqueScheduler();
        const op = operation(scheduler, 1);
        await storage.createOperation(op);
        await expectCode(storage.createOperation({ ...op, definitionName: "other" }), "already_exists");
        expect((await storage.getOperation(scheduler, op.id))?.definitionName).toBe(op.definitionName);
      });

      it("does not share objects with the caller", async () => {
        const scheduler = uniqueScheduler();
        const op = { ...operation(scheduler, 1), input: { amount: 1 } };
        await storage.createOperation(op);
        op.input["amount"] = 2;
        op.executionHistory.push({ createdAt: at(3), event: "local only" });
        const read = await storage.getOperation(scheduler, op.id);
        expect(read?.input).toEqual({ amount: 1 });
        expect(read?.executionHistory).toHaveLength(1);
        read!.executionHistory.push({ createdAt: at(4), event: "read only" });
        expect((await storage.getOperation(scheduler, op.id))?.executionHistory).toHaveLength(1);
      });
    });

    describe("updateStatus", () => {
      it("sets the status and moves the operation between stages", async () => {
        const scheduler = uniqueScheduler();
        const op = operation(scheduler, 1);
        await storage.createOperation(op);
        expect(await ids(storage, scheduler, "pending")).toEqual([op.id]);

        await storage.updateStatus(scheduler, op.id, "in_progress");
        expect((await storage.getOperation(scheduler, op.id))?.status).toBe("in_progress");
        expect(await ids(storage, scheduler, "pending")).toEqual([]);
        expect(await ids(storage, scheduler, "active")).toEqual([op.id]);

        await storage.updateStatus(scheduler, op.id, "finished", { expected: "in_progress" });
        expect(await ids(storage, scheduler, "active")).toEqual([]);
        expect(await ids(storage, scheduler, "final")).toEqual([op.id]);
      });

      it("throws not_found for an unknown operation", async () => {
        const scheduler = uniqueScheduler();
        const id = randomUUID();
        await expectCode(storage.updateStatus(scheduler, id, "in_progress"), "not_found");
        expect(await storage.getOperation(scheduler, id)).toBeUndefined();
        expect(await ids(storage, scheduler, "active")).toEqual([]);
      });

      it("compare-and-set: writes only when the status is the expected one, else conflict and nothing changes", async () => {
        const scheduler = uniqueScheduler();
        const op = operation(scheduler, 1);
        await storage.createOperation(op);
        await storage.updateStatus(scheduler, op.id, "canceled", { expected: "pending" });
        // The worker's pending → in_progress, second: refused, the cancel stands.
        await expectCode(storage.updateStatus(scheduler, op.id, "in_progress", { expected: "pending" }), "conflict");
        expect((await storage.getOperation(scheduler, op.id))?.status).toBe("canceled");
        expect(await ids(storage, scheduler, "final")).toEqual([op.id]);

        const other = operation(scheduler, 2);
        await storage.createOperation(other);
        await storage.updateStatus(scheduler, other.id, "in_progress", { expected: "pending" });
        await expectCode(storage.updateStatus(scheduler, other.id, "canceled", { expected: "pending" }), "conflict");
        expect(await ids(storage, scheduler, "active")).toEqual([other.id]);
      });

      it("never changes a final status, expected or not: an operation ends once", async () => {
        const scheduler = uniqueScheduler();
        for (const final of ["canceled", "finished", "evicted", "error"] as const) {
          const op = operation(scheduler, 1);
          await storage.createOperation(op);
          await storage.updateStatus(scheduler, op.id, final);
          for (const next of ["pending", "in_progress", "finished", "canceled"] as const) {
            await expectCode(storage.updateStatus(scheduler, op.id, next), "conflict");
          }
          expect((await storage.getOperation(scheduler, op.id))?.status).toBe(final);
        }
      });

      it("fenced: refuses status and history writes with failed_precondition once the writer's lease is gone", async () => {
        const scheduler = uniqueScheduler();
        const op = operation(scheduler, 1);
        await storage.createOperation(op);
        const mine = await leases.grantLease(scheduler, op.id, 60_000, { owner: "a" });
        await storage.updateStatus(scheduler, op.id, "in_progress", { expected: "pending", fence: mine.token });
        await storage.appendHistory(scheduler, op.id, { createdAt: at(2), event: "mine" }, { fence: mine.token });

        // Taken over: revoked (as if expired) and granted to another replica with a newer token.
        await leases.revokeLease(scheduler, op.id);
        await expectCode(
          storage.appendHistory(scheduler, op.id, { createdAt: at(3), event: "late" }, { fence: mine.token }),
          "failed_precondition",
        );
        const theirs = await leases.grantLease(scheduler, op.id, 60_000, { owner: "b" });
        await expectCode(
          storage.updateStatus(scheduler, op.id, "finished", { fence: mine.token }),
          "failed_precondition",
        );
        await expectCode(
          storage.appendHistory(scheduler, op.id, { createdAt: at(3), event: "late" }, { fence: mine.token }),
          "failed_precondition",
        );
        await storage.updateStatus(scheduler, op.id, "error", { expected: "in_progress", fence: theirs.token });
        const stored = await storage.getOperation(scheduler, op.id);
        expect(stored?.status).toBe("error");
        expect(stored?.executionHistory.map((e) => e.event)).toEqual(["Created", "mine"]);
      });
    });

    describe("appendHistory", () => {
      it("appends entries in order and keeps the rest of the operation", async () => {
        const scheduler = uniqueScheduler();
        const op = operation(scheduler, 1);
        await storage.createOperation(op);
        await storage.appendHistory(scheduler, op.id, { createdAt: at(5), event: "Started" });
        await storage.appendHistory(scheduler, op.id, { createdAt: at(6), event: "Finished" });
        expect(await storage.getOperation(scheduler, op.id)).toEqual({
          ...op,
          executionHistory: [
            { createdAt: at(1), event: "Created" },
            { createdAt: at(5), event: "Started" },
            { createdAt: at(6), event: "Finished" },
          ],
        });
      });

      it("throws not_found for an unknown operation", async () => {
        const scheduler = uniqueScheduler();
        const id = randomUUID();
        await expectCode(storage.appendHistory(scheduler, id, { createdAt: at(1), event: "x" }), "not_found");
        expect(await storage.getOperation(scheduler, id)).toBeUndefined();
      });
    });

    describe("listOperations", () => {
      it("lists one stage of one scheduler, oldest first", async () => {
        const scheduler = uniqueScheduler();
        const newest = operation(scheduler, 30);
        const oldest = operation(scheduler, 10);
        const middle = operation(scheduler, 20);
        for (const op of [newest, oldest, middle]) await storage.createOperation(op);
        await storage.createOperation(operation(uniqueScheduler(), 5));
        expect(await storage.listOperations(scheduler, "pending")).toEqual([oldest, middle, newest]);
      });

      it("puts in_progress in active and every final status in final", async () => {
        const scheduler = uniqueScheduler();
        const statuses: OperationStatusName[] = ["pending", "in_progress", "canceled", "finished", "evicted", "error"];
        const created = statuses.map((status, i) => ({ ...operation(scheduler, i), status }));
        for (const op of created) await storage.createOperation(op);
        const byStatus = (s: OperationStatusName) => created.find((op) => op.status === s)!.id;
        expect(await ids(storage, scheduler, "pending")).toEqual([byStatus("pending")]);
        expect(await ids(storage, scheduler, "active")).toEqual([byStatus("in_progress")]);
        expect(await ids(storage, scheduler, "final")).toEqual(
          ["canceled", "finished", "evicted", "error"].map((s) => byStatus(s as OperationStatusName)),
        );
      });

      it("returns an empty list for a scheduler without operations", async () => {
        expect(await storage.listOperations(uniqueScheduler(), "final")).toEqual([]);
      });
    });

    describe("deleteOperation", () => {
      it("removes one operation and leaves the others; deleting twice is fine", async () => {
        const scheduler = uniqueScheduler();
        const [a, b] = [operation(scheduler, 1), operation(scheduler, 2)];
        await storage.createOperation(a);
        await storage.createOperation(b);
        await storage.deleteOperation(scheduler, a.id);
        await storage.deleteOperation(scheduler, a.id);
        expect(await storage.getOperation(scheduler, a.id)).toBeUndefined();
        expect(await storage.getOperation(scheduler, b.id)).toEqual(b);
        expect((await storage.listOperations(scheduler, "pending")).map((o) => o.id)).toEqual([b.id]);
      });
    });

    describe("deleteOperations", () => {
      it("removes every operation of the scheduler and only of it", async () => {
        const scheduler = uniqueScheduler();
        const other = uniqueScheduler();
        const ops = [operation(scheduler, 1), { ...operation(scheduler, 2), status: "in_progress" as const }];
        for (const op of ops) await storage.createOperation(op);
        const kept = operation(other, 1);
        await storage.createOperation(kept);
        await storage.deleteOperations(scheduler);
        for (const op of ops) expect(await storage.getOperation(scheduler, op.id)).toBeUndefined();
        expect(await storage.listOperations(scheduler, "pending")).toEqual([]);
        expect(await storage.listOperations(scheduler, "active")).toEqual([]);
        expect(await storage.getOperation(other, kept.id)).toEqual(kept);
        await storage.deleteOperations(uniqueScheduler());
      });
    });

    describe("scheduler deletions", () => {
      // Other tests of the suite share the storage: each looks only at its own schedulers' notes.
      const sorted = (notes: SchedulerDeletion[]) =>
        [...notes].sort((a, b) =>
          `${a.schedulerName} ${a.operationId}`.localeCompare(`${b.schedulerName} ${b.operationId}`),
        );
      const notesOf = async (...schedulers: string[]) =>
        sorted((await storage.listSchedulerDeletions()).filter((d) => schedulers.includes(d.schedulerName)));

      it("keeps each noted deletion once until it is forgotten, whatever happens to the scheduler's operations", async () => {
        const scheduler = uniqueScheduler();
        const other = uniqueScheduler();
        const op = { ...operation(scheduler, 1), definitionName: "delete_scheduler", input: {} };
        await storage.createOperation(op);
        const [a, b] = [op.id, randomUUID()].sort();
        await storage.noteSchedulerDeletion(scheduler, a as string);
        await storage.noteSchedulerDeletion(scheduler, a as string);
        await storage.noteSchedulerDeletion(scheduler, b as string);
        await storage.noteSchedulerDeletion(other, a as string);
        // Recovery reads the notes after the scheduler's keys went: they must outlive them.
        await storage.deleteOperations(scheduler);
        expect(await notesOf(scheduler)).toEqual(
          sorted([
            { schedulerName: scheduler, operationId: a as string },
            { schedulerName: scheduler, operationId: b as string },
          ]),
        );
        await storage.forgetSchedulerDeletion(scheduler, a as string);
        await storage.forgetSchedulerDeletion(scheduler, a as string);
        expect(await notesOf(scheduler, other)).toEqual(
          sorted([
            { schedulerName: scheduler, operationId: b as string },
            { schedulerName: other, operationId: a as string },
          ]),
        );
        await storage.forgetSchedulerDeletion(scheduler, b as string);
        await storage.forgetSchedulerDeletion(other, a as string);
        expect(await notesOf(scheduler, other)).toEqual([]);
      });
    });

    it("rejects calls with an aborted signal as canceled", async () => {
      const scheduler = uniqueScheduler();
      const op = operation(scheduler, 1);
      const signal = AbortSignal.abort();
      await expectCode(storage.createOperation(op, { signal }), "canceled");
      await expectCode(storage.getOperation(scheduler, op.id, { signal }), "canceled");
      expect(await storage.getOperation(scheduler, op.id)).toBeUndefined();
    });
  });
}

function operation(schedulerName: string, second: number): Operation {
  return {
    id: randomUUID(),
    schedulerName,
    definitionName: "add_rooms",
    status: "pending",
    input: { amount: 2 },
    createdAt: at(second),
    executionHistory: [{ createdAt: at(1), event: "Created" }],
  };
}

async function ids(storage: OperationStorage, scheduler: string, stage: OperationStage): Promise<string[]> {
  return (await storage.listOperations(scheduler, stage)).map((op) => op.id);
}

/** A fixed instant with milliseconds, so adapters that drop sub-second precision fail. */
function at(second: number): Date {
  return new Date(Date.UTC(2026, 0, 3) + second * 1000 + 321);
}
