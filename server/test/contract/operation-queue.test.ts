import { MemoryOperationQueue } from "../../src/adapters/storage/memory/index.js";
import { operationQueueContract } from "./operation-queue.contract.js";

operationQueueContract("memory", () => new MemoryOperationQueue());
