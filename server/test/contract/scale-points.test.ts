import { MemoryScalePoints } from "../../src/adapters/storage/memory/index.js";
import { scalePointsContract } from "./scale-points.contract.js";

scalePointsContract("memory", () => new MemoryScalePoints());
