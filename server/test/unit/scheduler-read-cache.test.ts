import { describe, expect, it } from "vitest";
import { MemorySchedulerChanges, MemorySchedulerStorage } from "../../src/adapters/storage/memory/index.js";
import type { Scheduler } from "../../src/core/entities/scheduler.js";
import { systemClock } from "../../src/core/ports/clock.js";
import type { SchedulerChanges } from "../../src/core/ports/scheduler-changes.js";
import { AnnouncingSchedulerStorage, SchedulerReadCache } from "../../src/core/services/scheduler-read-cache.js";
import { validScheduler } from "../support/fixtures.js";

function setup(changes: SchedulerChanges = new MemorySchedulerChanges()) {
  const memory = new MemorySchedulerStorage();
  const storage = new AnnouncingSchedulerStorage(memory, changes);
  return { memory, storage, cache: new SchedulerReadCache(storage, changes, systemClock, 60_000) };
}

describe("SchedulerReadCache", () => {
  it("does not keep a copy loaded while a write landed", async () => {
    const { memory, storage, cache } = setup();
    const s = validScheduler({ name: "racy", maxSurge: "10%" });
    await storage.createScheduler(s);
    await storage.createScheduler(validScheduler({ name: "bystander" }));
    // The load starts before the write and returns the old copy after the write was announced.
    const original = memory.getScheduler.bind(memory);
    let release: () => void = () => {};
    memory.getScheduler = async (name, opts) => {
      const old = await original(name, opts);
      await new Promise<void>((r) => {
        release = r;
      });
      return old;
    };
    const slow = cache.getScheduler("racy");
    await new Promise((r) => setImmediate(r));
    memory.getScheduler = original;
    await storage.updateScheduler({ ...s, maxSurge: "50%" } as Scheduler);
    // Another read sees the new generation before the slow load ends: the old copy must not be kept under it.
    await cache.getScheduler("bystander");
    release();
    expect((await slow).maxSurge).toBe("10%");
    expect((await cache.getScheduler("racy")).maxSurge).toBe("50%");
  });

  it("reads through to storage, keeping nothing, while the generation cannot be read", async () => {
    let down = false;
    const inner = new MemorySchedulerChanges();
    const changes: SchedulerChanges = {
      generation: (o) => (down ? Promise.reject(new Error("redis down")) : inner.generation(o)),
      announce: (o) => (down ? Promise.reject(new Error("redis down")) : inner.announce(o)),
    };
    const { memory, storage, cache } = setup(changes);
    const s = validScheduler({ name: "outage", maxSurge: "10%" });
    await storage.createScheduler(s);
    expect((await cache.getScheduler("outage")).maxSurge).toBe("10%");
    down = true;
    // A write the counter never hears of (made while Redis was unreachable to everyone).
    await memory.updateScheduler({ ...s, maxSurge: "20%" } as Scheduler);
    expect((await cache.getScheduler("outage")).maxSurge).toBe("20%");
    down = false;
    await memory.updateScheduler({ ...s, maxSurge: "30%" } as Scheduler);
    expect((await cache.getScheduler("outage")).maxSurge).toBe("30%");
  });

  it("fails a write whose announcement failed, and announces a failed write too", async () => {
    const inner = new MemorySchedulerChanges();
    let refuse = false;
    const changes: SchedulerChanges = {
      generation: (o) => inner.generation(o),
      announce: (o) => (refuse ? Promise.reject(new Error("redis down")) : inner.announce(o)),
    };
    const { storage } = setup(changes);
    const s = validScheduler({ name: "announced" });
    const before = await inner.generation();
    await expect(storage.deleteScheduler("missing")).rejects.toMatchObject({ code: "not_found" });
    expect(await inner.generation()).not.toBe(before);
    refuse = true;
    await expect(storage.createScheduler(s)).rejects.toThrow(/redis down/);
  });
});
