import { describe, expect, it } from "vitest";
import { LatestPerKey } from "../../src/modules/latest-per-key.js";
import { deferred, waitFor } from "../support/core-harness.js";

describe("LatestPerKey (the runtime watcher's event writer)", () => {
  it("runs other keys while one key is busy, and a busy key's waiting item is replaced by the latest", async () => {
    const gate = deferred();
    const seen: string[] = [];
    const pool = new LatestPerKey<string>(4, async (key, item) => {
      seen.push(`${key}:${item}`);
      if (item === "a1") await gate.promise;
    });
    await pool.push("a", "a1");
    await pool.push("a", "a2");
    await pool.push("a", "a3");
    await pool.push("b", "b1");
    // b went through while a1 still runs; a2 was replaced by a3 before it could start.
    expect(seen).toEqual(["a:a1", "b:b1"]);
    gate.resolve();
    await pool.idle();
    expect(seen).toEqual(["a:a1", "b:b1", "a:a3"]);
  });

  it("holds the producer back once `limit` keys are busy", async () => {
    const gates = new Map([
      ["a", deferred()],
      ["b", deferred()],
    ]);
    const seen: string[] = [];
    const pool = new LatestPerKey<string>(2, async (key) => {
      seen.push(key);
      await gates.get(key)?.promise;
    });
    await pool.push("a", "1");
    await pool.push("b", "1");
    let pushed = false;
    const third = pool.push("c", "1").then(() => {
      pushed = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(pushed).toBe(false);
    expect(seen).toEqual(["a", "b"]);
    gates.get("a")?.resolve();
    await third;
    expect(seen).toEqual(["a", "b", "c"]);
    gates.get("b")?.resolve();
    await pool.idle();
  });

  it("a failing handler does not stop the key's later items", async () => {
    const seen: string[] = [];
    const pool = new LatestPerKey<string>(1, async (_key, item) => {
      seen.push(item);
      if (item === "x1") throw new Error("storage down");
    });
    await pool.push("x", "x1");
    await pool.push("x", "x2");
    await waitFor(() => seen.length === 2, "the second item");
    await pool.idle();
    expect(seen).toEqual(["x1", "x2"]);
  });
});
