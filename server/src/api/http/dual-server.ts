import http, { type IncomingMessage } from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { type DirectHooks, serveDirectly } from "./direct-connection.js";
import type { FastRoute } from "./fast-route.js";

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

export interface ConnectionTimeouts {
  /**
   * A connection must complete each request head, and the body it declares, within this long of opening or of its
   * previous response.
   */
  headersTimeoutMs: number;
  /** A connection with nothing in flight and no traffic for this long is closed. */
  idleTimeoutMs: number;
}

/**
 * One cleartext port for HTTP/1.1 (REST, curl, browsers, Connect, gRPC-Web) and HTTP/2 prior-knowledge (gRPC):
 * each connection is handed to the matching Node server after peeking at its first bytes.
 *
 * Node enforces its header and request timeouts only on connections of a server that listens itself, and these
 * servers are fed sockets, so the deadlines are ours: otherwise idle or slowloris connections pile up until the
 * process runs out of file descriptors.
 */
export function dualProtocolServer(
  timeouts: ConnectionTimeouts,
  fastRoute?: FastRoute,
): (handler: http.RequestListener) => net.Server {
  return (handler) => createDualServer(handler, timeouts, fastRoute);
}

interface HeadDeadline {
  /** When the head (and the body it declares) must have arrived (epoch ms); 0 = none awaited. */
  at: number;
  /** The request whose body is awaited, once its head is in. */
  body?: IncomingMessage | undefined;
  firesAt: number;
  timer: NodeJS.Timeout | undefined;
}

function createDualServer(
  handler: http.RequestListener,
  timeouts: ConnectionTimeouts,
  fastRoute: FastRoute | undefined,
): net.Server {
  let closing = false;
  // A closing server leaves every request to Fastify, which answers 503 as for any other route.
  const h1 = http.createServer(
    fastRoute === undefined
      ? handler
      : (req, res) => {
          if (closing || !fastRoute.handle(req, res)) handler(req, res);
        },
  );
  // Node applies this one itself (per socket, after each response): the idle time allowed between requests.
  h1.keepAliveTimeout = timeouts.idleTimeoutMs;
  const h2 = http2.createServer(
    handler as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
  );
  // An h2 session with no frame exchanged for this long is destroyed (no 'timeout' listener means destroy).
  h2.setTimeout(timeouts.idleTimeoutMs);
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (s) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });
  /**
   * Per h1 socket: the deadline for the request head in progress (0 once Node has parsed it). One timer per socket
   * outlives many requests and re-arms itself for a moved deadline when it fires, so a request costs no timer.
   */
  const headDeadlines = new Map<net.Socket, HeadDeadline>();
  const expire = (socket: net.Socket, d: HeadDeadline) => {
    d.timer = undefined;
    if (d.body?.complete === true) d.at = 0;
    if (d.at === 0) return;
    const left = d.at - Date.now();
    if (left <= 0) socket.destroy();
    else arm(socket, d, left);
  };
  const arm = (socket: net.Socket, d: HeadDeadline, ms: number) => {
    d.firesAt = Date.now() + ms;
    d.timer = setTimeout(expire, ms, socket, d);
  };
  const awaitHead = (socket: net.Socket, ms: number) => {
    let d = headDeadlines.get(socket);
    if (d === undefined) {
      d = { at: 0, firesAt: 0, timer: undefined };
      headDeadlines.set(socket, d);
    }
    d.at = Date.now() + ms;
    d.body = undefined;
    if (d.timer !== undefined && d.firesAt <= d.at) return;
    clearTimeout(d.timer);
    arm(socket, d, ms);
  };
  const headParsed = (socket: net.Socket) => {
    const d = headDeadlines.get(socket);
    if (d !== undefined) {
      d.at = 0;
      d.body = undefined;
    }
  };
  // Node tracks HTTP/1 connections only for servers that listen themselves; h1 is fed sockets, so we track them to
  // close idle ones on shutdown and the rest once their response is out.
  const h1Sockets = new Set<net.Socket>();
  const busy = new Set<net.Socket>();
  const unclassified = new Set<net.Socket>();
  const answered = (socket: net.Socket) => {
    busy.delete(socket);
    if (closing) socket.end();
    // A kept-alive connection may idle first, then must send its next head in time (slowloris on request two).
    else if (!socket.destroyed) awaitHead(socket, timeouts.idleTimeoutMs + timeouts.headersTimeoutMs);
  };
  h1.on("request", (req, res) => {
    const socket = req.socket;
    busy.add(socket);
    // The deadline runs on until the body is in too: Node enforces its request timeout only on servers that listen
    // themselves, so a client could otherwise hold a connection by never sending the body it declared.
    // Whether the body is in is read when the deadline fires (`complete`, set by Node's parser whether or not the
    // route has read the body yet), so a request costs no listener.
    const length = req.headers["content-length"];
    if ((length === undefined || length === "0") && req.headers["transfer-encoding"] === undefined) headParsed(socket);
    else {
      const d = headDeadlines.get(socket);
      if (d !== undefined) d.body = req;
    }
    res.once("finish", () => answered(socket));
  });
  const direct = fastRoute?.direct;
  const directHooks: DirectHooks = {
    closing: () => closing,
    headParsed,
    busy: (socket) => busy.add(socket),
    answered,
    toNode: (socket) => h1.emit("connection", socket),
  };
  const front = net.createServer((socket) => {
    unclassified.add(socket);
    // Until its first bytes arrive a connection is neither h1 nor h2: the head deadline covers it too.
    const firstBytes = setTimeout(() => socket.destroy(), timeouts.headersTimeoutMs);
    socket.once("close", () => {
      clearTimeout(firstBytes);
      unclassified.delete(socket);
    });
    socket.once("readable", () => {
      clearTimeout(firstBytes);
      unclassified.delete(socket);
      const head: Buffer | null = socket.read(PREFACE.length) ?? socket.read();
      if (!head) {
        socket.destroy();
        return;
      }
      socket.unshift(head);
      const isH2 = head.subarray(0, PREFACE.length).equals(PREFACE);
      if (!isH2) {
        h1Sockets.add(socket);
        awaitHead(socket, timeouts.headersTimeoutMs);
        socket.once("close", () => {
          clearTimeout(headDeadlines.get(socket)?.timer);
          headDeadlines.delete(socket);
          h1Sockets.delete(socket);
          busy.delete(socket);
        });
      }
      if (isH2) h2.emit("connection", socket);
      // Connections start on the direct front, which hands them to Node at their first request it does not serve.
      else if (direct !== undefined) serveDirectly(socket, direct, directHooks, timeouts.idleTimeoutMs);
      else h1.emit("connection", socket);
    });
  });
  // fastify.close() closes only the front listener; idle keep-alive connections and h2 sessions would keep it open
  // for ever. Requests in flight finish first: h2 sessions close after their streams, busy h1 connections after
  // their response.
  const close = front.close.bind(front);
  front.close = (cb?: (err?: Error) => void) => {
    closing = true;
    close(cb);
    for (const s of unclassified) s.destroy();
    for (const s of h1Sockets) if (!busy.has(s)) s.destroy();
    for (const s of sessions) s.close();
    return front;
  };
  // Used when the drain deadline passes (see closeGracefully).
  Object.assign(front, {
    closeAllConnections() {
      for (const s of [...unclassified, ...h1Sockets]) s.destroy();
      for (const s of sessions) s.destroy();
    },
  });
  return front;
}
