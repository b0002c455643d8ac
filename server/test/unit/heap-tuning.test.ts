import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load-config.js";
import { isMaestroError } from "../../src/core/errors.js";
import { applyHeapTuning } from "../../src/wiring/heap-tuning.js";

describe("memory.heapGrowingPercent", () => {
  it("sets V8's heap growing factor from the setting, 50 by default", () => {
    const flags: string[] = [];
    expect(applyHeapTuning(loadConfig({ env: {} }).memory, (f) => flags.push(f))).toBe("--heap-growing-percent=50");
    const config = loadConfig({ env: { MAESTRO_MEMORY_HEAPGROWINGPERCENT: "120" } });
    applyHeapTuning(config.memory, (f) => flags.push(f));
    expect(flags).toEqual(["--heap-growing-percent=50", "--heap-growing-percent=120"]);
  });

  it("leaves V8's own adaptive factor alone at 0", () => {
    const flags: string[] = [];
    expect(applyHeapTuning({ heapGrowingPercent: 0 }, (f) => flags.push(f))).toBeUndefined();
    expect(flags).toEqual([]);
  });

  it("refuses a negative or absurd percentage, naming the setting", () => {
    for (const value of ["-1", "401", "fifty"]) {
      try {
        loadConfig({ env: { MAESTRO_MEMORY_HEAPGROWINGPERCENT: value } });
        expect.unreachable(`accepted ${value}`);
      } catch (err) {
        expect(isMaestroError(err, "invalid_argument")).toBe(true);
        expect((err as Error).message).toContain("memory.heapGrowingPercent");
      }
    }
  });

  it("names a flag this Node's V8 knows (an unknown one stops node at start)", () => {
    const flag = applyHeapTuning({ heapGrowingPercent: 50 }, () => {});
    expect(() => execFileSync(process.execPath, [flag as string, "-e", ""], { stdio: "pipe" })).not.toThrow();
    expect(() =>
      execFileSync(process.execPath, ["--heap-growing-percentage=50", "-e", ""], { stdio: "pipe" }),
    ).toThrow();
  });
});
