import { MemoryLeaseStorage, MemoryOperationStorage } from "../../src/adapters/storage/memory/index.js";
import { operationStorageContract } from "./operation-storage.contract.js";

operationStorageContract("memory", () => {
  const leases = new MemoryLeaseStorage();
  return { storage: new MemoryOperationStorage({ leases }), leases };
});
