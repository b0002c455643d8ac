import { MemoryOperationStorage } from "../../src/adapters/storage/memory/index.js";
import { operationStorageContract } from "./operation-storage.contract.js";

operationStorageContract("memory", () => new MemoryOperationStorage());
