import { MemoryInstanceStorage } from "../../src/adapters/storage/memory/index.js";
import { instanceStorageContract } from "./instance-storage.contract.js";

instanceStorageContract("memory", () => new MemoryInstanceStorage());
