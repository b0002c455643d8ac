import { describe, expect, it } from "vitest";
import { HmacRoomTokens } from "../../src/adapters/security/hmac-room-tokens.js";

describe("HmacRoomTokens", () => {
  const tokens = new HmacRoomTokens("unit-test-secret-0123456789");

  it("accepts a room's own token only, also once its expected token is cached", () => {
    const mine = tokens.tokenFor("sch", "room-a");
    for (let i = 0; i < 2; i++) {
      expect(tokens.verify("sch", "room-a", mine)).toBe(true);
      expect(tokens.verify("sch", "room-b", mine)).toBe(false);
      expect(tokens.verify("other", "room-a", mine)).toBe(false);
      expect(tokens.verify("sch", "room-a", `${mine}x`)).toBe(false);
      expect(tokens.verify("sch", "room-a", "")).toBe(false);
    }
  });

  it("refuses a token of the right length that differs in any one character, non-ASCII included", () => {
    const mine = tokens.tokenFor("sch", "room-c");
    expect(tokens.verify("sch", "room-c", mine)).toBe(true);
    for (let i = 0; i < mine.length; i++) {
      for (const c of [mine[i] === "A" ? "B" : "A", "é", "\u{1F600}".slice(0, 1)]) {
        expect(tokens.verify("sch", "room-c", mine.slice(0, i) + c + mine.slice(i + 1))).toBe(false);
      }
    }
  });

  it("gives tokens that another secret does not accept", () => {
    const other = new HmacRoomTokens("another-secret-0123456789");
    expect(other.verify("sch", "room-a", tokens.tokenFor("sch", "room-a"))).toBe(false);
  });

  it("keeps verifying correctly after the cache starts over", () => {
    const first = tokens.tokenFor("sch", "first");
    expect(tokens.verify("sch", "first", first)).toBe(true);
    for (let i = 0; i < 50_001; i++) tokens.verify("sch", `filler-${i}`, "x");
    expect(tokens.verify("sch", "first", first)).toBe(true);
    expect(tokens.verify("sch", "first", tokens.tokenFor("sch", "second"))).toBe(false);
  });
});
