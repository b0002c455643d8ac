import { beforeAll, describe, expect, it } from "vitest";
import type { Instance } from "../../src/core/entities/game-room.js";
import type { InstanceStorage } from "../../src/core/ports/room-storage.js";
import { expectCode, sortById, uniqueScheduler } from "../support/contract-helpers.js";

/** The InstanceStorage contract, for every adapter (memory, Redis). The factory is called once per suite. */
export function instanceStorageContract(name: string, factory: () => InstanceStorage | Promise<InstanceStorage>) {
  describe(`InstanceStorage contract: ${name}`, () => {
    let storage: InstanceStorage;

    beforeAll(async () => {
      storage = await factory();
    });

    it("returns what was upserted, address included", async () => {
      const scheduler = uniqueScheduler();
      const bare = instance(scheduler, "bare");
      const full: Instance = {
        ...instance(scheduler, "full"),
        status: { type: "ready", description: "" },
        address: {
          host: "127.0.0.1",
          ports: [
            { name: "game", port: 20001, protocol: "udp" },
            { name: "admin", port: 20002, protocol: "tcp" },
          ],
        },
        resourceVersion: "1234",
      };
      await storage.upsertInstance(bare);
      await storage.upsertInstance(full);
      expect(await storage.getInstance(scheduler, "bare")).toEqual(bare);
      expect(await storage.getInstance(scheduler, "full")).toEqual(full);
    });

    it("replaces an existing instance on upsert", async () => {
      const scheduler = uniqueScheduler();
      await storage.upsertInstance({ ...instance(scheduler, "i1"), resourceVersion: "1" });
      const replaced: Instance = { ...instance(scheduler, "i1"), status: { type: "error", description: "exit 3" } };
      await storage.upsertInstance(replaced);
      const stored = await storage.getInstance(scheduler, "i1");
      expect(stored).toEqual(replaced);
      expect(stored?.resourceVersion).toBeUndefined();
      expect(await storage.listInstances(scheduler)).toHaveLength(1);
    });

    it("returns undefined for an unknown instance and keeps schedulers apart", async () => {
      const scheduler = uniqueScheduler();
      const other = uniqueScheduler();
      await storage.upsertInstance(instance(scheduler, "i1"));
      expect(await storage.getInstance(scheduler, "missing")).toBeUndefined();
      expect(await storage.getInstance(other, "i1")).toBeUndefined();
    });

    it("deletes without error, also when absent or deleted twice", async () => {
      const scheduler = uniqueScheduler();
      await storage.upsertInstance(instance(scheduler, "i1"));
      await storage.upsertInstance(instance(scheduler, "i2"));
      await storage.deleteInstance(scheduler, "i1");
      await storage.deleteInstance(scheduler, "i1");
      await storage.deleteInstance(scheduler, "never-there");
      expect(await storage.getInstance(scheduler, "i1")).toBeUndefined();
      expect((await storage.listInstances(scheduler)).map((i) => i.id)).toEqual(["i2"]);
    });

    it("lists the instances of one scheduler only", async () => {
      const scheduler = uniqueScheduler();
      const instances = [instance(scheduler, "a"), instance(scheduler, "b"), instance(scheduler, "c")];
      for (const i of instances) await storage.upsertInstance(i);
      await storage.upsertInstance(instance(uniqueScheduler(), "z"));
      expect(sortById(await storage.listInstances(scheduler))).toEqual(instances);
      expect(await storage.listInstances(uniqueScheduler())).toEqual([]);
    });

    it("does not share objects with the caller", async () => {
      const scheduler = uniqueScheduler();
      const upserted: Instance = { ...instance(scheduler, "i1"), address: { host: "h", ports: [] } };
      await storage.upsertInstance(upserted);
      upserted.address!.host = "changed";
      const read = await storage.getInstance(scheduler, "i1");
      expect(read?.address?.host).toBe("h");
      read!.status.type = "error";
      expect((await storage.getInstance(scheduler, "i1"))?.status.type).toBe("pending");
    });

    it("rejects calls with an aborted signal as canceled", async () => {
      const scheduler = uniqueScheduler();
      const signal = AbortSignal.abort();
      await expectCode(storage.upsertInstance(instance(scheduler, "i1"), { signal }), "canceled");
      expect(await storage.getInstance(scheduler, "i1")).toBeUndefined();
    });
  });
}

function instance(schedulerName: string, id: string): Instance {
  return { id, schedulerName, status: { type: "pending", description: "starting" } };
}
