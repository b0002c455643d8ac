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

/**
 * SchedulerChanges counting the generation reads sent. The generation is read when the request goes out; `hold()`
 * keeps the answers of the reads sent from then on until the release it returns is called.
 */
function countedChanges() {
  const inner = new MemorySchedulerChanges();
  let held: Promise<void> | undefined;
  const counted = {
    sent: 0,
    changes: {
      generation: async (o) => {
        counted.sent += 1;
        const generation = await inner.generation(o);
        await held;
        return generation;
      },
      announce: (o) => inner.announce(o),
    } satisfies SchedulerChanges,
    hold(): () => void {
      let release: () => void = () => {};
      held = new Promise((r) => {
        release = r;
      });
      return () => {
        held = undefined;
        release();
      };
    },
  };
  return counted;
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

  it("shares one generation read among the reads of one turn, never with a read that starts after it was sent", async () => {
    const counted = countedChanges();
    const { storage, cache } = setup(counted.changes);
    const s = validScheduler({ name: "shared", maxSurge: "10%" });
    await storage.createScheduler(s);
    const reads = [
      cache.getScheduler("shared"),
      cache.getScheduler("shared"),
      cache.listSchedulers(),
      cache.listSchedulers(),
    ];
    expect((await Promise.all(reads)).map((r) => ("name" in r ? r.maxSurge : r.length))).toEqual(["10%", "10%", 1, 1]);
    expect(counted.sent).toBe(1);

    const release = counted.hold();
    const early = cache.getScheduler("shared");
    while (counted.sent < 2) await new Promise((r) => setImmediate(r));
    // A write answers after the early read's generation went out, then a read starts: it must see the write.
    await storage.updateScheduler({ ...s, maxSurge: "50%" } as Scheduler);
    const late = cache.getScheduler("shared");
    release();
    expect((await early).maxSurge).toBe("10%");
    expect((await late).maxSurge).toBe("50%");
    expect(counted.sent).toBe(3);
  });

  it("sends one generation read for all the reads that start while one is out, once it is back", async () => {
    const counted = countedChanges();
    const { storage, cache } = setup(counted.changes);
    await storage.createScheduler(validScheduler({ name: "busy" }));
    const release = counted.hold();
    const first = cache.getScheduler("busy");
    while (counted.sent < 1) await new Promise((r) => setImmediate(r));
    // Reads in three later turns, all while the first generation read is out.
    const later: Promise<Scheduler>[] = [];
    for (let turn = 0; turn < 3; turn++) {
      later.push(cache.getScheduler("busy"));
      await new Promise((r) => setImmediate(r));
    }
    expect(counted.sent).toBe(1);
    release();
    await first;
    expect((await Promise.all(later)).map((s) => s.name)).toEqual(["busy", "busy", "busy"]);
    expect(counted.sent).toBe(2);
  });

  it("lets a read give up on its signal while the shared generation read goes on for the others", async () => {
    const { storage, cache } = setup();
    await storage.createScheduler(validScheduler({ name: "patient" }));
    const controller = new AbortController();
    const leaving = cache.getScheduler("patient", { signal: controller.signal });
    const staying = cache.getScheduler("patient");
    controller.abort(new Error("caller left"));
    await expect(leaving).rejects.toThrow("caller left");
    expect((await staying).name).toBe("patient");
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
