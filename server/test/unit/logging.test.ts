import { describe, expect, it } from "vitest";
import { formatPretty } from "../../src/logging.js";

describe("pretty log lines", () => {
  it("puts where the entry comes from first, then the message and the other fields", () => {
    const line = JSON.stringify({
      level: 40,
      time: "2026-11-21T08:00:01.234Z",
      service: "maestro",
      module: "worker",
      scheduler: "s1",
      operation: "add_rooms",
      msg: "operation did not finish",
      status: "error",
      detail: "two words",
    });
    expect(formatPretty(line)).toBe(
      '08:00:01.234 WARN  [worker scheduler=s1 operation=add_rooms] operation did not finish status=error detail="two words"\n',
    );
  });

  it("prints an error's message inline and its stack below", () => {
    const line = JSON.stringify({
      level: 50,
      time: "2026-11-21T08:00:01.234Z",
      msg: "failed",
      err: { message: "boom", stack: "Error: boom\n    at x (y.js:1:1)" },
    });
    expect(formatPretty(line)).toBe('08:00:01.234 ERROR failed err="boom"\n    Error: boom\n        at x (y.js:1:1)\n');
  });

  it("colors the level on a terminal and leaves non-JSON lines alone", () => {
    expect(formatPretty(JSON.stringify({ level: 30, time: "2026-11-21T08:00:00.000Z", msg: "hi" }), true)).toContain(
      "\u001b[32mINFO \u001b[0m",
    );
    expect(formatPretty("not json")).toBe("not json");
  });
});
