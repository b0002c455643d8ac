import { readFileSync } from "node:fs";
import { MaestroError } from "../../../core/errors.js";
import type { RunAs } from "./process-room.js";

/**
 * Who rooms run as, from `runtime.process.runAsUser`:
 * - empty: the server's own user (rooms can read its files and each other's /proc/<pid>/environ);
 * - a user name or uid: every room runs as that user — the server's secrets (mode 0600 under a 0700 data directory)
 *   are out of the rooms' reach, but rooms share a uid and so can still read each other's environment;
 * - a uid range `FROM-TO`: each live room gets a uid of its own (and the same gid), so no room can read another's
 *   environment or signal its processes. The uids need no account.
 */
export class RoomUsers {
  private readonly used = new Set<number>();

  private constructor(
    private readonly mode: { kind: "user"; runAs: RunAs; home: string } | { kind: "range"; from: number; to: number },
  ) {}

  /** Undefined when rooms run as the server's user. */
  static fromSetting(setting: string): RoomUsers | undefined {
    const value = setting.trim();
    if (value === "") return undefined;
    const range = /^(\d+)-(\d+)$/.exec(value);
    let users: RoomUsers;
    if (range) {
      const from = Number(range[1]);
      const to = Number(range[2]);
      if (from < 1 || to < from || to > 2 ** 31 - 2) {
        throw invalid(`uid range ${value} must be FROM-TO with 1 ≤ FROM ≤ TO`);
      }
      users = new RoomUsers({ kind: "range", from, to });
    } else {
      const entry = lookupUser(value);
      if (!entry)
        throw invalid(`no user ${JSON.stringify(value)} in /etc/passwd (use a name, a uid or a range FROM-TO)`);
      users = new RoomUsers({ kind: "user", runAs: { uid: entry.uid, gid: entry.gid }, home: entry.home });
    }
    const self = process.getuid?.();
    if (self !== 0) {
      throw new MaestroError(
        "failed_precondition",
        "runtime.process.runAsUser needs the server to run as root (it switches each room's user at spawn)",
      );
    }
    return users;
  }

  /** The identity of a new room; a range hands out its lowest free uid. */
  take(): RunAs {
    if (this.mode.kind === "user") return this.mode.runAs;
    for (let uid = this.mode.from; uid <= this.mode.to; uid++) {
      if (this.used.has(uid)) continue;
      this.used.add(uid);
      return { uid, gid: uid };
    }
    throw new MaestroError(
      "resource_exhausted",
      `every uid of runtime.process.runAsUser ${this.mode.from}-${this.mode.to} is taken by a live room`,
    );
  }

  release(runAs: RunAs | undefined): void {
    if (runAs && this.mode.kind === "range") this.used.delete(runAs.uid);
  }

  /** HOME for the room's processes: the server's own would be unreadable to them. */
  home(): string {
    return this.mode.kind === "user" ? this.mode.home : "/";
  }
}

function invalid(message: string): MaestroError {
  return new MaestroError("invalid_argument", `runtime.process.runAsUser: ${message}`);
}

function lookupUser(nameOrUid: string): { uid: number; gid: number; home: string } | undefined {
  let passwd = "";
  try {
    passwd = readFileSync("/etc/passwd", "utf8");
  } catch {
    // No passwd database: only a bare uid can be used.
  }
  for (const line of passwd.split("\n")) {
    const [name, , uid, gid, , home] = line.split(":");
    if (name === undefined || uid === undefined || gid === undefined) continue;
    if (name === nameOrUid || uid === nameOrUid) return { uid: Number(uid), gid: Number(gid), home: home || "/" };
  }
  if (/^\d+$/.test(nameOrUid)) return { uid: Number(nameOrUid), gid: Number(nameOrUid), home: "/" };
  return undefined;
}
