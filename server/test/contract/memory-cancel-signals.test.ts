import { MemoryCancelSignals } from "../../src/adapters/storage/memory/index.js";
import { cancelSignalsContract } from "./cancel-signals.contract.js";

cancelSignalsContract("memory", () => new MemoryCancelSignals());
