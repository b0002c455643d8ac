import { MemoryCrashedRoomLogs } from "../../src/adapters/storage/memory/index.js";
import { crashedRoomLogsContract } from "./crashed-room-logs.contract.js";

crashedRoomLogsContract("memory", () => new MemoryCrashedRoomLogs());
