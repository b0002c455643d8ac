import { STATUS_CODES } from "node:http";
import type net from "node:net";
import { performance } from "node:perf_hooks";
import { parseDirectHead } from "./direct-head.js";
import type { DirectAnswer, DirectRoute } from "./fast-route.js";

/** What the server around a direct connection does for it (the same as for the connections Node parses). */
export interface DirectHooks {
  /** A closing server leaves every request to Node, so that Fastify answers 503 as for any other route. */
  closing(): boolean;
  /** A request head has arrived whole: its deadline is met. */
  headParsed(socket: net.Socket): void;
  /** A request is in flight on the connection: a closing server lets it finish. */
  busy(socket: net.Socket): void;
  /** Its answer is written: the connection closes if the server is closing, or awaits its next head. */
  answered(socket: net.Socket): void;
  /** Hands the connection to Node's HTTP server for good; its unread bytes are back on the socket. */
  toNode(socket: net.Socket): void;
}

/** Bytes held while a request is served before the connection stops reading (pipelining clients). */
const MAX_HELD = 64 * 1024;
/**
 * A request that trickles in goes to Node, whose parser reads each piece once: here every piece would copy and parse
 * again all that came before it (a ping arrives in one piece, or two).
 */
const MAX_PIECES = 8;

/**
 * Serves a keep-alive connection's requests for one route straight off the socket, without Node's HTTP parser,
 * IncomingMessage and ServerResponse (issue 17: on the rooms API's ping, Node's HTTP server was 45 % of the bytes a
 * ping allocates, and young-generation collections were what kept a ping at 256 callers above 50 µs). Requests are
 * taken one at a time, in order. The first request that is not a plain one for this route (see direct-head.ts) hands
 * the connection, with every byte it has not consumed, to Node for good: Node answers everything else, and every
 * malformed request, as it always has.
 *
 * Answers are byte for byte what Node writes for `res.writeHead(status, [content-type, content-length]); res.end(body)`
 * on a kept-alive HTTP/1.1 connection.
 */
export function serveDirectly(
  socket: net.Socket,
  route: DirectRoute,
  hooks: DirectHooks,
  keepAliveTimeoutMs: number,
): void {
  // Node answers with Nagle off (its `noDelay` default).
  socket.setNoDelay(true);
  const tail = `\r\nConnection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(keepAliveTimeoutMs / 1000)}\r\n\r\n`;
  let held: Buffer | undefined;
  let serving = false;
  // Pieces of the request being read: each one copies and reads again what came before it.
  let pieces = 0;
  const onData = (chunk: Buffer) => {
    held = held === undefined ? chunk : Buffer.concat([held, chunk]);
    if (serving) {
      if (held.length > MAX_HELD) socket.pause();
    } else if (++pieces > MAX_PIECES) handOff();
    else next();
  };
  // Node's server adds its own once the connection is handed over; until then a reset must not crash the process.
  const onError = () => socket.destroy();
  const handOff = () => {
    socket.removeListener("data", onData);
    socket.removeListener("error", onError);
    socket.pause();
    if (held !== undefined) socket.unshift(held);
    held = undefined;
    hooks.toNode(socket);
    socket.resume();
  };
  const write = (answer: DirectAnswer) => {
    if (socket.destroyed || !socket.writable) return;
    socket.write(
      `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(answer.body)}\r\nDate: ${httpDate()}${tail}${answer.body}`,
    );
  };
  const next = (): void => {
    if (held === undefined) return;
    const head = parseDirectHead(held, 0, route.method);
    if (head.kind === "incomplete") return;
    const params = head.kind === "request" && !hooks.closing() ? route.match(head.target) : null;
    if (head.kind !== "request" || params === null || head.contentLength > route.bodyMax || head.contentLength === 0) {
      handOff();
      return;
    }
    const bodyEnd = head.bodyStart + head.contentLength;
    // The rest of the body is still coming; the head is read again then (a ping's head is a few hundred bytes). The
    // head deadline runs until the body is in too: a ping's body is small, and a client must not hold a connection
    // by never sending it.
    if (held.length < bodyEnd) return;
    hooks.headParsed(socket);
    const started = performance.now();
    const body = held.toString("utf8", head.bodyStart, bodyEnd);
    held = bodyEnd === held.length ? undefined : held.subarray(bodyEnd);
    pieces = 0;
    serving = true;
    hooks.busy(socket);
    route.serve(params, head.authorization, body, started).then(
      (answer) => {
        write(answer);
        serving = false;
        hooks.answered(socket);
        // A closing server has ended the connection after this answer: what was pipelined behind it stays unread.
        if (!socket.writable) return;
        if (socket.isPaused()) socket.resume();
        next();
      },
      () => socket.destroy(),
    );
  };
  socket.on("error", onError);
  socket.on("data", onData);
}

let dateSecond = -1;
let dateText = "";

/** The Date header's value, made once a second as Node does. */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}
