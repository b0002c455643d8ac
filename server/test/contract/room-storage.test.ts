import { MemoryInstanceStorage, MemoryRoomStorage } from "../../src/adapters/storage/memory/index.js";
import { roomStorageContract } from "./room-storage.contract.js";

roomStorageContract("memory", () => {
  const instances = new MemoryInstanceStorage();
  return { rooms: new MemoryRoomStorage((s, id) => instances.statusOf(s, id)), instances };
});
