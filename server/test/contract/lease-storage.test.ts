import { MemoryLeaseStorage } from "../../src/adapters/storage/memory/index.js";
import { leaseStorageContract } from "./lease-storage.contract.js";

leaseStorageContract("memory", (clock) => new MemoryLeaseStorage(clock));
