import { MaestroError } from "../errors.js";

/** A scheduler version `vMAJOR.MINOR.PATCH`. Maestro assigns these; clients never choose them. */
export interface SemVer {
  major: number;
  minor: number;
  patch: number;
}

const strictVersion = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;
// Versions written by Maestro v9 ("v1", "v2") and hand-edited rows ("1.2.3", "v1.2") must still take part in
// numbering, the way Maestro's lenient semver.NewVersion coerced them.
const looseVersion = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$/;

/** Parses exactly `vMAJOR.MINOR.PATCH` (no leading zeros, no pre-release); undefined for anything else. */
export function parseVersion(version: string): SemVer | undefined {
  const m = strictVersion.exec(version);
  if (!m) return undefined;
  return toSemVer(m[1], m[2], m[3]);
}

export function isValidVersion(version: string): boolean {
  return parseVersion(version) !== undefined;
}

/** Like parseVersion, but accepts the shapes of stored legacy versions: `v1`, `v1.2`, `1.2.3`. */
export function coerceVersion(version: string): SemVer | undefined {
  const m = looseVersion.exec(version.trim());
  if (!m) return undefined;
  return toSemVer(m[1], m[2], m[3]);
}

export function formatVersion(v: SemVer): string {
  return `v${v.major}.${v.minor}.${v.patch}`;
}

/** Negative when a < b, zero when equal, positive when a > b. Throws invalid_argument for an unparsable version. */
export function compareVersions(a: string | SemVer, b: string | SemVer): number {
  const x = mustCoerce(a);
  const y = mustCoerce(b);
  return x.major - y.major || x.minor - y.minor || x.patch - y.patch;
}

/**
 * Version for a major change: the greatest major among ALL versions plus one, so after switching back to v1 while
 * v2 exists the next major is v3.0.0. Unparsable entries are ignored; no versions at all gives v1.0.0.
 */
export function nextMajor(versions: readonly string[]): string {
  let greatest = 0;
  for (const v of versions) {
    const parsed = coerceVersion(v);
    if (parsed && parsed.major > greatest) greatest = parsed.major;
  }
  return formatVersion({ major: greatest + 1, minor: 0, patch: 0 });
}

/**
 * Version for a minor change: the greatest minor within the current major plus one (v1.1.0 exists → v1.2.0), even
 * when the active version is an older minor. `currentMajor` is a major number or a version whose major is used.
 */
export function nextMinor(versions: readonly string[], currentMajor: number | string): string {
  const major = typeof currentMajor === "number" ? currentMajor : mustCoerce(currentMajor).major;
  if (!Number.isSafeInteger(major) || major < 0) {
    throw new MaestroError("invalid_argument", `major version must be a non-negative integer, got ${currentMajor}`);
  }
  let greatest = 0;
  for (const v of versions) {
    const parsed = coerceVersion(v);
    if (parsed && parsed.major === major && parsed.minor > greatest) greatest = parsed.minor;
  }
  return formatVersion({ major, minor: greatest + 1, patch: 0 });
}

/** True when both versions parse and share their major; orders rooms of other majors first for deletion. */
export function isSameMajor(a: string, b: string): boolean {
  const x = coerceVersion(a);
  const y = coerceVersion(b);
  return x !== undefined && y !== undefined && x.major === y.major;
}

function toSemVer(major: string | undefined, minor: string | undefined, patch: string | undefined): SemVer | undefined {
  const v = { major: Number(major ?? 0), minor: Number(minor ?? 0), patch: Number(patch ?? 0) };
  // Digits beyond 2^53 would silently round and make two different versions compare equal.
  if (!Number.isSafeInteger(v.major) || !Number.isSafeInteger(v.minor) || !Number.isSafeInteger(v.patch)) {
    return undefined;
  }
  return v;
}

function mustCoerce(v: string | SemVer): SemVer {
  if (typeof v !== "string") return v;
  const parsed = coerceVersion(v);
  if (!parsed) throw new MaestroError("invalid_argument", `"${v}" is not a version like v1.2.3`);
  return parsed;
}
