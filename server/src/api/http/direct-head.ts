/**
 * The strict subset of HTTP/1.1 request heads the direct front serves itself (see direct-connection.ts). Anything
 * outside it is "other" and goes to Node's own parser, which judges it (400, 431, …) exactly as for any request: this
 * parser never refuses input, it only declines it. What it accepts it must frame exactly as llhttp would, or a request
 * could be smuggled past one of the two, hence:
 * - request line `<METHOD> <target> HTTP/1.1` with one space each side, the target made of path characters only;
 * - header lines `name: value` ending in CRLF: the name a token, the value visible ASCII, space and tab (no obs-fold,
 *   no bare CR or LF, no bytes ≥ 0x80);
 * - exactly one Content-Length of 1–5 digits, one non-empty Host, at most one Authorization; no Transfer-Encoding, Expect or
 *   Upgrade; a Connection header only if it says keep-alive (a closing or upgrading request is Node's to answer).
 */

export type DirectHead =
  | { kind: "incomplete" }
  | { kind: "other" }
  | {
      kind: "request";
      /** The request target as sent (path characters only). */
      target: string;
      /** The Authorization value with surrounding spaces and tabs trimmed, as Node presents it. */
      authorization: string | undefined;
      contentLength: number;
      /** Offset of the body's first byte in the buffer. */
      bodyStart: number;
    };

const INCOMPLETE: DirectHead = { kind: "incomplete" };
const OTHER: DirectHead = { kind: "other" };

/** Past this a head is Node's to judge (its own limit is 16 KiB); a ping's head is a few hundred bytes. */
export const MAX_DIRECT_HEAD = 8 * 1024;
const MAX_HEADERS = 64;
const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const COLON = 58;
const HEAD_END = Buffer.from("\r\n\r\n");
const VERSION = Buffer.from(" HTTP/1.1");

// RFC 9110 tchar: ALPHA DIGIT and !#$%&'*+-.^_`|~
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  TCHAR[c.charCodeAt(0)] = 1;
}
// Characters a target may hold here: unreserved and "/" (no query, no percent-escapes: those are Fastify's to decode).
const TARGET = new Uint8Array(256);
for (const c of "-._~/0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_") {
  TARGET[c.charCodeAt(0)] = 1;
}

const name = (s: string) => Buffer.from(s);
const HOST = name("host");
const EXPECT = name("expect");
const UPGRADE = name("upgrade");
const CONNECTION = name("connection");
const AUTHORIZATION = name("authorization");
const CONTENT_LENGTH = name("content-length");
const TRANSFER_ENCODING = name("transfer-encoding");
const KEEP_ALIVE = name("keep-alive");

/** Whether buf[at, at + lower.length) spells `lower` in any case (lower holds only letters and "-"). */
function spells(buf: Buffer, at: number, lower: Buffer): boolean {
  for (let i = 0; i < lower.length; i++) {
    if (((buf[at + i] as number) | 0x20) !== lower[i]) return false;
  }
  return true;
}

/**
 * Reads the head of the request starting at `start` in `buf` (which ends where the received bytes end), for a request
 * of `method` (upper case, e.g. "PUT").
 */
export function parseDirectHead(buf: Buffer, start: number, method: Buffer): DirectHead {
  const headEnd = buf.indexOf(HEAD_END, start);
  if (headEnd === -1) return buf.length - start > MAX_DIRECT_HEAD ? OTHER : declinedEarly(buf, start, method);
  if (headEnd - start > MAX_DIRECT_HEAD) return OTHER;
  // Request line.
  if (buf.length - start < method.length + 1) return OTHER;
  for (let i = 0; i < method.length; i++) if (buf[start + i] !== method[i]) return OTHER;
  const targetStart = start + method.length + 1;
  if (buf[targetStart - 1] !== SP) return OTHER;
  const lineEnd = buf.indexOf(CR, targetStart);
  const targetEnd = lineEnd - VERSION.length;
  if (targetEnd <= targetStart || buf[lineEnd + 1] !== LF) return OTHER;
  if (buf.compare(VERSION, 0, VERSION.length, targetEnd, lineEnd) !== 0) return OTHER;
  for (let i = targetStart; i < targetEnd; i++) if (TARGET[buf[i] as number] !== 1) return OTHER;
  // Header lines: each ends in CRLF, the last one's CRLF being the first half of HEAD_END.
  let contentLength = -1;
  let authorization: string | undefined;
  let hosts = 0;
  let count = 0;
  let p = lineEnd + 2;
  while (p < headEnd + 2) {
    if (++count > MAX_HEADERS) return OTHER;
    const e = buf.indexOf(CR, p);
    if (buf[e + 1] !== LF) return OTHER;
    let colon = p;
    while (colon < e && TCHAR[buf[colon] as number] === 1) colon++;
    if (colon === p || colon === e || buf[colon] !== COLON) return OTHER;
    let vs = colon + 1;
    let ve = e;
    while (vs < ve && (buf[vs] === SP || buf[vs] === HTAB)) vs++;
    while (ve > vs && (buf[ve - 1] === SP || buf[ve - 1] === HTAB)) ve--;
    for (let i = vs; i < ve; i++) {
      const c = buf[i] as number;
      if ((c < SP && c !== HTAB) || c > 126) return OTHER;
    }
    switch (colon - p) {
      case 4:
        // An empty Host counts as none (Node refuses both).
        if (spells(buf, p, HOST)) hosts += ve > vs ? 1 : 2;
        break;
      case 6:
        if (spells(buf, p, EXPECT)) return OTHER;
        break;
      case 7:
        if (spells(buf, p, UPGRADE)) return OTHER;
        break;
      case 10:
        if (spells(buf, p, CONNECTION) && !(ve - vs === KEEP_ALIVE.length && spells(buf, vs, KEEP_ALIVE))) {
          return OTHER;
        }
        break;
      case 13:
        if (spells(buf, p, AUTHORIZATION)) {
          if (authorization !== undefined) return OTHER;
          authorization = buf.toString("latin1", vs, ve);
        }
        break;
      case 14:
        if (spells(buf, p, CONTENT_LENGTH)) {
          if (contentLength !== -1 || ve === vs || ve - vs > 5) return OTHER;
          contentLength = 0;
          for (let i = vs; i < ve; i++) {
            const d = (buf[i] as number) - 48;
            if (d < 0 || d > 9) return OTHER;
            contentLength = contentLength * 10 + d;
          }
        }
        break;
      case 17:
        if (spells(buf, p, TRANSFER_ENCODING)) return OTHER;
        break;
    }
    p = e + 2;
  }
  if (hosts !== 1 || contentLength === -1) return OTHER;
  return {
    kind: "request",
    target: buf.toString("latin1", targetStart, targetEnd),
    authorization,
    contentLength,
    bodyStart: headEnd + 4,
  };
}

/**
 * An unfinished head goes to Node at once, not when it completes, if its first bytes show another method or a line
 * does not end in CRLF: the end this parser waits for may never come, and Node may answer such a head as it stands.
 */
function declinedEarly(buf: Buffer, start: number, method: Buffer): DirectHead {
  const n = Math.min(buf.length - start, method.length + 1);
  for (let i = 0; i < n; i++) {
    const want = i === method.length ? SP : method[i];
    if (buf[start + i] !== want) return OTHER;
  }
  for (let i = buf.indexOf(LF, start); i !== -1; i = buf.indexOf(LF, i + 1)) {
    if (buf[i - 1] !== CR) return OTHER;
  }
  for (let i = buf.indexOf(CR, start); i !== -1; i = buf.indexOf(CR, i + 1)) {
    if (i + 1 < buf.length && buf[i + 1] !== LF) return OTHER;
  }
  return INCOMPLETE;
}
