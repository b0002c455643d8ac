import { describe, expect, it } from "vitest";
import { MemoryOperationStorage } from "../../src/adapters/storage/memory/memory-operation-storage.js";
import { highVolumeOperationTtl } from "../../src/adapters/storage/redis/redis-operation-storage.js";
import type { Operation } from "../../src/core/entities/operation.js";
import { STORAGE_CLEAN_UP } from "../../src/core/operations/storage-clean-up/storage-clean-up.js";
import { CoreHarness, ManualClock } from "../support/core-harness.js";

const op = (id: string, definitionName: string, createdAt: Date): Operation => ({
  id,
  schedulerName: "s",
  definitionName,
  status: "finished",
  input: {},
  createdAt,
  executionHistory: [{ createdAt, event: "Created" }],
});

describe("storage clean-up", () => {
  it("forgets high-volume operations older than their time to live and keeps the rest", async () => {
    const clock = new ManualClock();
    const storage = new MemoryOperationStorage({ ttlSecondsFor: highVolumeOperationTtl(), clock });
    await storage.createOperation(op("old-add", "add_rooms", clock.ago(25 * 3_600_000)));
    await storage.createOperation(op("new-add", "add_rooms", clock.ago(3_600_000)));
    await storage.createOperation(op("old-version", "create_new_scheduler_version", clock.ago(30 * 86_400_000)));
    expect(await storage.cleanExpired("s")).toBe(1);
    expect((await storage.listOperations("s", "final")).map((o) => o.id)).toEqual(["old-version", "new-add"]);
    expect(await storage.cleanExpired("s")).toBe(0);
  });

  it("runs as the storage_clean_up operation, recorded only when it removed something", async () => {
    const h = await CoreHarness.create();
    try {
      const run = h.runOperation("s", STORAGE_CLEAN_UP, {}, "cleanup");
      await run.done;
      expect(run.history).toEqual(["removed 0 expired operations"]);
      expect(run.noAction()).toBe(true);
    } finally {
      await h.close();
    }
  });
});
