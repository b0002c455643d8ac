import http from "node:http";
import http2 from "node:http2";
import net from "node:net";

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/**
 * One cleartext port for HTTP/1.1 (REST, curl, browsers, Connect, gRPC-Web) and HTTP/2 prior-knowledge (gRPC):
 * each connection is handed to the matching Node server after peeking at its first bytes.
 */
export function dualProtocolServer(handler: http.RequestListener): net.Server {
  const h1 = http.createServer(handler);
  const h2 = http2.createServer(
    handler as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
  );
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (s) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });
  // Node tracks HTTP/1 connections only for servers that listen themselves; h1 is fed sockets, so we track them to
  // close idle ones on shutdown and the rest once their response is out.
  const h1Sockets = new Set<net.Socket>();
  const busy = new Set<net.Socket>();
  const unclassified = new Set<net.Socket>();
  let closing = false;
  h1.on("request", (req, res) => {
    const socket = req.socket;
    busy.add(socket);
    res.once("finish", () => {
      busy.delete(socket);
      if (closing) socket.end();
    });
  });
  const front = net.createServer((socket) => {
    unclassified.add(socket);
    socket.once("close", () => unclassified.delete(socket));
    socket.once("readable", () => {
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
        socket.once("close", () => {
          h1Sockets.delete(socket);
          busy.delete(socket);
        });
      }
      (isH2 ? h2 : h1).emit("connection", socket);
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
