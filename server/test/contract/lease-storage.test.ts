import { MemoryLeaseStorage } from "../../src/adapters/storage/memory/index.js";
import { leaseStorageContract, ManualClock } from "./lease-storage.contract.js";

leaseStorageContract("memory", () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 4, 10, 0, 0, 250));
  return {
    storage: new MemoryLeaseStorage(clock),
    time: {
      now: () => clock.now().getTime(),
      advance: async (ms) => clock.advance(ms),
    },
  };
});
