import type { UniversalClientFn, UniversalClientResponse } from "@connectrpc/connect/protocol";

interface HeldAnswer {
  etag: string;
  header: Headers;
  body: Uint8Array;
}

/**
 * Read RPCs go out as Connect GETs (the proto marks them free of side effects); the server tags each answer with an
 * ETag. This keeps the latest answer per URL, asks again with If-None-Match, and on an empty 304 replays the answer
 * it holds: a client polling an unchanged scheduler, room list or operation costs the server a hash, not an encoding,
 * and the wire a header. At most `maxAnswers` URLs are kept (least recently used go first).
 */
export function conditionalGets(next: UniversalClientFn, maxAnswers = 256): UniversalClientFn {
  const held = new Map<string, HeldAnswer>();
  return async (req) => {
    if (req.method !== "GET") return next(req);
    const mine = held.get(req.url);
    let sent = req;
    if (mine !== undefined) {
      const header = new Headers(req.header);
      header.set("if-none-match", mine.etag);
      sent = { ...req, header };
    }
    const res = await next(sent);
    if (res.status === 304 && mine !== undefined) {
      held.delete(req.url);
      held.set(req.url, mine);
      return { status: 200, header: new Headers(mine.header), body: once(mine.body), trailer: new Headers() };
    }
    const etag = res.header.get("etag");
    if (res.status !== 200 || etag === null) {
      held.delete(req.url);
      return res;
    }
    const body = await collect(res);
    held.delete(req.url);
    held.set(req.url, { etag, header: res.header, body });
    if (held.size > maxAnswers) held.delete(held.keys().next().value as string);
    return { ...res, body: once(body) };
  };
}

async function collect(res: UniversalClientResponse): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of res.body) chunks.push(chunk);
  return concat(chunks);
}

/** One array of the chunks' bytes. Not Buffer.concat: this file also runs in browsers. */
export function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

async function* once(body: Uint8Array): AsyncIterable<Uint8Array> {
  yield body;
}
