import { MemoryRoomStorage } from "../../src/adapters/storage/memory/index.js";
import { roomStorageContract } from "./room-storage.contract.js";

roomStorageContract("memory", () => new MemoryRoomStorage());
