import { describe, expect, it } from "vitest";
import { MemorySchedulerOwnership } from "../../src/adapters/storage/memory/index.js";
import { ManualClock } from "../support/core-harness.js";
import { schedulerOwnershipContract } from "./scheduler-ownership.contract.js";

schedulerOwnershipContract("memory", () => new MemorySchedulerOwnership());

describe("MemorySchedulerOwnership on an injected clock", () => {
  it("holds a claim until exactly ttl after the last acquire or renew", async () => {
    const clock = new ManualClock(new Date(Date.UTC(2026, 0, 4, 10, 0, 0)));
    const ownership = new MemorySchedulerOwnership(clock);
    expect(await ownership.acquire("s", "a", 1_000)).toBe(true);
    clock.advance(999);
    expect(await ownership.renew("s", "a", 1_000)).toBe(true);
    clock.advance(999);
    expect(await ownership.holder("s")).toBe("a");
    expect(await ownership.acquire("s", "b", 1_000)).toBe(false);
    clock.advance(1);
    expect(await ownership.holder("s")).toBeUndefined();
    expect(await ownership.renew("s", "a", 1_000)).toBe(false);
    expect(await ownership.acquire("s", "b", 1_000)).toBe(true);
  });
});
