import { describe, expect, it } from "vitest";
import {
  coerceVersion,
  compareVersions,
  formatVersion,
  isSameMajor,
  isValidVersion,
  nextMajor,
  nextMinor,
  parseVersion,
} from "../../src/core/entities/semver.js";
import { MaestroError } from "../../src/core/errors.js";

describe("parseVersion", () => {
  it.each([
    ["v0.0.0", { major: 0, minor: 0, patch: 0 }],
    ["v1.0.0", { major: 1, minor: 0, patch: 0 }],
    ["v10.20.30", { major: 10, minor: 20, patch: 30 }],
  ])("parses %s", (input, expected) => {
    expect(parseVersion(input)).toEqual(expected);
    expect(isValidVersion(input)).toBe(true);
  });

  it.each([
    "",
    "1.0.0",
    "V1.0.0",
    "v1",
    "v1.0",
    "v1.0.0.0",
    "v01.0.0",
    "v1.00.0",
    "v1.0.0-rc.1",
    "v1.0.0+build",
    " v1.0.0",
    "v1.0.0 ",
    "v-1.0.0",
    "v99999999999999999999.0.0",
  ])("refuses %j", (input) => {
    expect(parseVersion(input)).toBeUndefined();
    expect(isValidVersion(input)).toBe(false);
  });

  it("formats what it parses back to the same text", () => {
    for (const v of ["v0.0.0", "v1.2.3", "v10.0.42"]) {
      const parsed = parseVersion(v);
      expect(parsed).toBeDefined();
      expect(formatVersion(parsed!)).toBe(v);
    }
  });
});

describe("coerceVersion", () => {
  it.each([
    ["v1", { major: 1, minor: 0, patch: 0 }],
    ["v2.3", { major: 2, minor: 3, patch: 0 }],
    ["1.2.3", { major: 1, minor: 2, patch: 3 }],
    ["v4.5.6", { major: 4, minor: 5, patch: 6 }],
  ])("reads legacy %s", (input, expected) => {
    expect(coerceVersion(input)).toEqual(expected);
  });

  it.each(["", "garbage", "v1.x", "v1.2.3-beta"])("refuses %j", (input) => {
    expect(coerceVersion(input)).toBeUndefined();
  });
});

describe("compareVersions", () => {
  it.each([
    ["v1.0.0", "v1.0.0", 0],
    ["v1.0.0", "v1.0.1", -1],
    ["v1.0.1", "v1.1.0", -1],
    ["v1.1.0", "v2.0.0", -1],
    ["v2.0.0", "v1.99.99", 1],
    // Numeric, not lexicographic.
    ["v1.10.0", "v1.9.0", 1],
    ["v10.0.0", "v9.0.0", 1],
  ])("%s vs %s → %i", (a, b, sign) => {
    expect(Math.sign(compareVersions(a, b))).toBe(sign);
    expect(Math.sign(compareVersions(b, a))).toBe(sign === 0 ? 0 : -sign);
  });

  it("sorts versions", () => {
    const sorted = ["v2.0.0", "v1.10.0", "v1.2.0", "v1.0.0", "v1.2.1"].sort(compareVersions);
    expect(sorted).toEqual(["v1.0.0", "v1.2.0", "v1.2.1", "v1.10.0", "v2.0.0"]);
  });

  it("accepts parsed versions", () => {
    expect(compareVersions({ major: 1, minor: 2, patch: 0 }, "v1.2.0")).toBe(0);
  });

  it("throws invalid_argument for an unparsable version", () => {
    expect(() => compareVersions("garbage", "v1.0.0")).toThrow(MaestroError);
    try {
      compareVersions("v1.0.0", "garbage");
      expect.unreachable();
    } catch (e) {
      expect((e as MaestroError).code).toBe("invalid_argument");
      expect((e as MaestroError).message).toContain("garbage");
    }
  });
});

describe("nextMajor", () => {
  it.each<[string[], string]>([
    [[], "v1.0.0"],
    [["v1.0.0"], "v2.0.0"],
    [["v1.0.0", "v1.1.0", "v1.1.1"], "v2.0.0"],
    // After switching back to v1 while v2 exists the next major is still above every major ever used.
    [["v1.0.0", "v2.0.0", "v1.1.0"], "v3.0.0"],
    [["v2.1.0", "v1.3.0"], "v3.0.0"],
    [["v9.0.0", "v10.0.0"], "v11.0.0"],
    [["v1", "v2"], "v3.0.0"],
    [["garbage", "v1.0.0"], "v2.0.0"],
  ])("%j → %s", (versions, expected) => {
    expect(nextMajor(versions)).toBe(expected);
  });
});

describe("nextMinor", () => {
  it.each<[string[], number | string, string]>([
    [["v1.0.0"], 1, "v1.1.0"],
    [["v1.0.0", "v1.1.0"], 1, "v1.2.0"],
    // The current version may be an older minor; numbering continues after the greatest one of that major.
    [["v1.0.0", "v1.1.0", "v1.2.0"], "v1.0.0", "v1.3.0"],
    [["v1.0.0", "v1.1.0", "v2.0.0", "v2.5.0"], 1, "v1.2.0"],
    [["v1.0.0", "v1.1.0", "v2.0.0", "v2.5.0"], "v2.0.0", "v2.6.0"],
    [["v1.10.0", "v1.9.0"], 1, "v1.11.0"],
    // A minor bump resets the patch.
    [["v1.1.5"], 1, "v1.2.0"],
    [["v3", "garbage"], 3, "v3.1.0"],
    [[], 4, "v4.1.0"],
  ])("%j in major %s → %s", (versions, major, expected) => {
    expect(nextMinor(versions, major)).toBe(expected);
  });

  it.each<[number | string]>([["garbage"], [-1], [1.5]])("refuses current major %j", (major) => {
    expect(() => nextMinor(["v1.0.0"], major)).toThrow(MaestroError);
  });
});

describe("isSameMajor", () => {
  it.each([
    ["v1.0.0", "v1.5.2", true],
    ["v1.0.0", "v1.0.0", true],
    ["v1", "v1.2.0", true],
    ["v1.0.0", "v2.0.0", false],
    ["v10.0.0", "v1.0.0", false],
    ["garbage", "v1.0.0", false],
    ["", "", false],
  ])("%s and %s → %s", (a, b, expected) => {
    expect(isSameMajor(a, b)).toBe(expected);
  });
});
