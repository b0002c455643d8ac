import { createHmac, randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { RoomTokens } from "../../core/ports/room-token.js";

/** Expected tokens kept for verification; past this many rooms the cache starts over (a miss costs one HMAC). */
const VERIFY_CACHE_SIZE = 50_000;

/** A room's token is an HMAC of its scheduler and id: nothing to store, and a token never works for another room. */
export class HmacRoomTokens implements RoomTokens {
  // Every ping is verified: the HMAC was a visible share of a ping's CPU, and a room's expected token never changes.
  // Keyed by scheduler, then room: a joined key would be a new string to build and hash on every ping.
  private readonly expected = new Map<string, Map<string, string>>();
  private cached = 0;

  constructor(private readonly secret: string) {
    if (secret.length < 16) throw new Error("room token secret must be at least 16 characters");
  }

  tokenFor(schedulerName: string, roomId: string): string {
    return createHmac("sha256", this.secret).update(`${schedulerName}\n${roomId}`).digest("base64url");
  }

  verify(schedulerName: string, roomId: string, token: string): boolean {
    let rooms = this.expected.get(schedulerName);
    let expected = rooms?.get(roomId);
    if (expected === undefined) {
      expected = this.tokenFor(schedulerName, roomId);
      if (this.cached >= VERIFY_CACHE_SIZE) {
        this.expected.clear();
        this.cached = 0;
        rooms = undefined;
      }
      if (rooms === undefined) {
        rooms = new Map();
        this.expected.set(schedulerName, rooms);
      }
      rooms.set(roomId, expected);
      this.cached++;
    }
    return sameText(expected, token);
  }
}

/**
 * Compares in time that depends on the lengths only (the length of a valid token is no secret): every character is
 * looked at whatever differs. On strings, so a ping allocates no Buffers to compare (timingSafeEqual needs two).
 */
function sameText(expected: string, given: string): boolean {
  if (given.length !== expected.length) return false;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ given.charCodeAt(i);
  return diff === 0;
}

/** Reads the secret kept under the data directory, creating it on first use so tokens survive restarts. */
export async function loadOrCreateSecret(path: string): Promise<string> {
  try {
    const secret = (await readFile(path, "utf8")).trim();
    // A file copied in or made by hand may be readable by others, rooms included: only the server reads it.
    await chmod(path, 0o600);
    return secret;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const secret = randomBytes(32).toString("base64url");
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${secret}\n`, { mode: 0o600, flag: "wx" }).catch(async (err) => {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  });
  return (await readFile(path, "utf8")).trim();
}
