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
  const front = net.createServer((socket) => {
    socket.once("readable", () => {
      const head: Buffer | null = socket.read(PREFACE.length) ?? socket.read();
      if (!head) {
        socket.destroy();
        return;
      }
      socket.unshift(head);
      const target = head.subarray(0, PREFACE.length).equals(PREFACE) ? h2 : h1;
      target.emit("connection", socket);
    });
  });
  // fastify.close() closes only the front listener; idle keep-alive and h2 sessions would keep it open for ever.
  // Requests in flight finish first: h2 sessions close after their streams, and h1 connections are closed as soon as
  // they fall idle (polled, since a request in flight says nothing when its keep-alive connection becomes idle).
  const close = front.close.bind(front);
  front.close = (cb?: (err?: Error) => void) => {
    const poll = setInterval(() => h1.closeIdleConnections(), 50);
    close((err) => {
      clearInterval(poll);
      cb?.(err);
    });
    h1.closeIdleConnections();
    for (const s of sessions) s.close();
    return front;
  };
  // Used when the drain deadline passes (see closeGracefully).
  Object.assign(front, {
    closeAllConnections() {
      h1.closeAllConnections();
      for (const s of sessions) s.destroy();
    },
  });
  return front;
}
