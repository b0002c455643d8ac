import { createConnection, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDirectHead } from "../../src/api/http/direct-head.js";
import { dualProtocolServer } from "../../src/api/http/dual-server.js";
import type { FastRoute } from "../../src/api/http/fast-route.js";
import { fastPingRoute } from "../../src/api/rest/fast-ping-route.js";
import type { PingInput } from "../../src/api/services/rooms-service.js";
import { http as api, eventually, schedulerBody, startTestMaestro, type TestMaestro } from "../support/test-maestro.js";

/**
 * Issue 17: plain pings are served straight off the socket (api/http/direct-connection.ts), and a connection goes to
 * Node's HTTP server at its first request that is not one. The answers must not tell the two apart.
 */

const SENTINEL = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
const HEALTHZ = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";

function connect(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    // Each write its own segment, so that pieces arrive as written.
    const socket = createConnection({ host: hostname, port: Number(port), noDelay: true }, () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Whether `text` (bytes as latin1) holds a whole final answer: 1xx interim answers skipped, bodies by their length. */
function holdsAnswer(text: string): boolean {
  let at = 0;
  for (;;) {
    const end = text.indexOf("\r\n\r\n", at);
    if (end === -1) return false;
    const head = text.slice(at, end);
    if (/^HTTP\/1\.1 1\d\d /.test(head)) {
      at = end + 4;
      continue;
    }
    const length = /\r\ncontent-length: (\d+)/i.exec(head);
    return length !== null && text.length >= end + 4 + Number(length[1]);
  }
}

/**
 * Writes `parts` one per event-loop turn, then, once the first answer is in (so nothing is pipelined behind a request
 * Node may still be answering: Node drops that answer when the bytes behind it do not parse), `then` if the connection
 * is still open; returns all the server sent until it closed the connection. With `first`, that request is sent and
 * answered before the parts, and its answer is left out of the result: a plain ping keeps the connection direct, a
 * /healthz request hands it to Node, so that Node parses the parts. Either way the connection has answered before
 * (Node answers a request it cannot parse only on a connection that has written nothing yet).
 */
async function exchange(url: string, parts: readonly Buffer[], then: string, first?: string): Promise<string> {
  const socket = await connect(url);
  socket.on("error", () => {});
  let received = "";
  let waiting: { done: (text: string) => boolean; resolve: () => void } | undefined;
  const waitFor = (done: (text: string) => boolean) =>
    new Promise<void>((resolve) => {
      waiting = { done, resolve };
    });
  const closed = new Promise<void>((resolve) =>
    socket.once("close", () => {
      waiting?.resolve();
      resolve();
    }),
  );
  socket.on("data", (c: Buffer) => {
    received += c.toString("latin1");
    if (waiting?.done(received)) waiting.resolve();
  });
  if (first !== undefined) {
    const answered = waitFor(holdsAnswer);
    socket.write(first);
    await answered;
    received = "";
  }
  const answered = waitFor(holdsAnswer);
  for (const part of parts) {
    if (socket.destroyed) break;
    socket.write(part);
    await new Promise((resolve) => setImmediate(resolve));
  }
  await answered;
  waiting = undefined;
  if (!socket.destroyed) socket.write(then);
  await closed;
  return received;
}

/** The Date header is the only part of an answer that may differ between two sends. */
const undated = (text: string) => text.replace(/\r\nDate: [^\r]*/g, "\r\nDate: -");

/** Splits bytes at `cuts` random places. */
function split(bytes: Buffer, cuts: number, rand: () => number): Buffer[] {
  const at = [...new Set(Array.from({ length: cuts }, () => Math.floor(rand() * bytes.length)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let from = 0;
  for (const to of [...at, bytes.length]) {
    if (to > from) parts.push(bytes.subarray(from, to));
    from = to;
  }
  return parts;
}

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const bodies = [
  '{"status":"ready"}',
  '{"status":"occupied","runningMatches":2,"metadata":{"map":"d\u00e9sert"}}',
  '{"status":"ready","runningMatches":"3"}',
  '{"status":"bogus"}',
  '{"status":"ready","extra":1}',
  '{"status":"ready","metadata":{"k":"a\\u0000b"}}',
  "{",
  "[]",
];

/** A ping request for that room with one to three of the twists hostile or odd clients send. */
function request(rand: () => number, S: string, room: string, token: string): Buffer {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  let method = "PUT";
  let target = `/scheduler/${S}/rooms/${room}/ping`;
  let version = "HTTP/1.1";
  let body = pick(bodies);
  let headers: [string, string][] = [
    ["Host", "localhost"],
    ["Authorization", `Bearer ${token}`],
    ["Content-Type", "application/json"],
    ["Content-Length", String(Buffer.byteLength(body))],
  ];
  let eol = () => "\r\n";
  let prefix = "";
  let pipelined = false;
  const len = () => Buffer.byteLength(body);
  const twists: (() => void)[] = [
    () => {
      headers = headers.map(([n, v]) => [
        [...n].map((c) => (rand() < 0.5 ? c.toUpperCase() : c.toLowerCase())).join(""),
        v,
      ]);
    },
    () =>
      headers.splice(Math.floor(rand() * headers.length), 0, [
        pick(["X-Trace", "Accept", "User-Agent"]),
        pick(["1", "*/*", " a b "]),
      ]),
    () => headers.push(["Content-Length", pick([String(Buffer.byteLength(body)), "3"])]),
    () => {
      headers = headers.filter(([n]) => n !== "Content-Length");
      headers.push(["Transfer-Encoding", "chunked"]);
      body = `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    },
    () => headers.push(["Connection", pick(["close", "keep-alive", "Keep-Alive", "upgrade", "keep-alive, x"])]),
    () => {
      const i = headers.findIndex(([n]) => n === "Host");
      const twist = pick(["drop", "empty", "twice"]);
      if (twist === "drop") headers.splice(i, 1);
      else if (twist === "empty") headers[i] = ["Host", ""];
      else headers.push(["Host", "other"]);
    },
    () => {
      version = pick(["HTTP/1.0", "HTTP/1.2", "http/1.1", "HTTP/2.0"]);
    },
    () => {
      method = pick(["put", "POST", "GET", "PUTT", " PUT"]);
    },
    () => {
      target = pick([
        `${target}?x=1`,
        `${target}/`,
        target.replace("/rooms/", "//rooms/"),
        target.replace("ping", "p%69ng"),
        `${target}#f`,
      ]);
    },
    () =>
      headers.push(
        pick<[string, string]>([
          ["X-Bad ", "1"],
          ["X-Fold", "a\r\n b"],
          ["X-Tab", "\ta\t"],
          [":", "x"],
          ["X@", "1"],
        ]),
      ),
    () => {
      eol = () => (rand() < 0.2 ? pick(["\n", "\r", "\r\r\n"]) : "\r\n");
    },
    () => headers.push(["X-Odd", pick(["caf\u00e9", "a\u0001b", "a\u007fb", "\u00ff"])]),
    () => {
      const i = headers.findIndex(([n]) => n === "Content-Length");
      if (i >= 0)
        headers[i] = [
          "Content-Length",
          pick([`+${len()}`, `0${len()}`, `${len()} ${len()}`, "", "-1", `0x${len().toString(16)}`, `${len()}.0`]),
        ];
    },
    () => {
      pipelined = true;
    },
    () => headers.push(["Expect", "100-continue"]),
    () => headers.push(["X-Big", "y".repeat(pick([5000, 9000, 17000]))]),
    () => {
      const i = headers.findIndex(([n]) => n === "Authorization");
      const twist = pick(["drop", "twice", "wrong", "spaced"]);
      if (twist === "drop") headers.splice(i, 1);
      else if (twist === "twice") headers.push(["authorization", "Bearer nope"]);
      else if (twist === "wrong") headers[i] = ["Authorization", "Bearer nope"];
      else headers[i] = ["Authorization", ` \tBearer ${token}\t `];
    },
    () => {
      prefix = pick(["\r\n", " ", "\r\n\r\n"]);
    },
  ];
  const n = 1 + Math.floor(rand() * 3);
  for (let i = 0; i < n; i++) pick(twists)();
  const head = `${prefix}${method} ${target} ${version}${eol()}${headers.map(([k, v]) => `${k}: ${v}${eol()}`).join("")}${eol()}`;
  const second = pipelined
    ? `PUT /scheduler/${S}/rooms/${room}/ping HTTP/1.1\r\nHost: x\r\nContent-Length: 18\r\n\r\n{"status":"ready"}`
    : "";
  return Buffer.concat([Buffer.from(head, "latin1"), Buffer.from(body), Buffer.from(second)]);
}

describe("the direct front on a dual-protocol server", () => {
  let server: Server;
  let url: string;
  let nodeParsed = 0;
  const pings: PingInput[] = [];

  beforeAll(async () => {
    const route = fastPingRoute({
      ping: async (input) => {
        pings.push(input);
      },
      logger: { error() {}, warn() {}, info() {}, debug() {}, child: () => undefined as never } as never,
      restBodyBytes: 1024 * 1024,
      ignoreUnknownFields: false,
    });
    const counted: FastRoute = {
      handle: (req, res) => {
        nodeParsed++;
        return route.handle(req, res);
      },
      direct: route.direct,
    };
    server = dualProtocolServer(
      { headersTimeoutMs: 300, idleTimeoutMs: 600 },
      counted,
    )((req, res) => {
      const body = req.url === "/healthz" ? "OK" : "no";
      res.writeHead(body === "OK" ? 200 : 404, { "content-type": "text/plain", "content-length": body.length });
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    url = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const ping = (room: string, body: string) =>
    `PUT /scheduler/s/rooms/${room}/ping HTTP/1.1\r\nHost: x\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

  it("serves plain pings, pipelined and cut anywhere, in order and without Node's parser", async () => {
    nodeParsed = 0;
    pings.length = 0;
    const bytes = Buffer.from(
      ping("r1", '{"status":"ready"}') + ping("r2", '{"status":"occupied","runningMatches":2}') + SENTINEL,
    );
    // At most seven pieces: more would send the connection to Node (next test).
    const answer = await exchange(url, split(bytes, 6, seeded(7)), "");
    expect(answer.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(3);
    expect(answer.split('{"success":true}')).toHaveLength(3);
    expect(answer.endsWith("OK")).toBe(true);
    expect(pings.map((p) => [p.roomName, p.status, p.runningMatches])).toEqual([
      ["r1", "ready", 0n],
      ["r2", "occupied", 2n],
    ]);
    // Only the closing /healthz went to Node.
    expect(nodeParsed).toBe(1);
  });

  it("hands a connection to Node at its first other request, with the bytes that follow it", async () => {
    nodeParsed = 0;
    pings.length = 0;
    const bytes = Buffer.from(ping("r1", '{"status":"ready"}') + HEALTHZ + ping("r2", '{"status":"ready"}') + SENTINEL);
    const answer = await exchange(url, [bytes], "");
    expect(answer.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(4);
    expect(pings.map((p) => p.roomName)).toEqual(["r1", "r2"]);
    // Node parsed the ping after /healthz (and /healthz and the sentinel, which the route declined).
    expect(nodeParsed).toBe(3);
  });

  it("leaves a ping that trickles in to Node, which answers it", async () => {
    nodeParsed = 0;
    pings.length = 0;
    const bytes = Buffer.from(ping("r3", '{"status":"ready"}'));
    const pieces = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
    const answer = await exchange(url, pieces, SENTINEL);
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\{"success":true\}HTTP\/1\.1 200 OK/);
    expect(pings.map((p) => p.roomName)).toEqual(["r3"]);
    expect(nodeParsed).toBe(2);
  });

  it("ends a connection after the answer in flight when the server closes, leaving what is pipelined behind it", async () => {
    let release: () => void = () => {};
    let started: () => void = () => {};
    const inFlight = new Promise<void>((resolve) => {
      started = resolve;
    });
    const route = fastPingRoute({
      ping: () => {
        started();
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      },
      logger: { error() {}, warn() {}, info() {}, debug() {}, child: () => undefined as never } as never,
      restBodyBytes: 1024,
      ignoreUnknownFields: false,
    });
    // Node answers a closing server's requests through this one (Fastify's 503 in the product).
    let parsedByNode = 0;
    const closing = dualProtocolServer(
      { headersTimeoutMs: 2000, idleTimeoutMs: 2000 },
      route,
    )((_req, res) => {
      parsedByNode++;
      res.end();
    });
    await new Promise<void>((resolve) => closing.listen(0, "127.0.0.1", resolve));
    const { port } = closing.address() as { port: number };
    const socket = await connect(`http://127.0.0.1:${port}`);
    socket.on("error", () => {});
    let received = "";
    socket.on("data", (c: Buffer) => {
      received += c.toString("latin1");
    });
    const ended = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.write(ping("r1", '{"status":"ready"}') + ping("r2", '{"status":"ready"}'));
    await inFlight;
    const closed = new Promise((resolve) => closing.close(resolve));
    release();
    await ended;
    await closed;
    expect(received.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(1);
    expect(parsedByNode).toBe(0);
  });

  it("closes a connection whose ping head comes too slowly", async () => {
    const socket = await connect(url);
    socket.on("error", () => {});
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.write("PUT /scheduler/s/rooms/r/ping HTTP/1.1\r\nHost: x\r\n");
    const drip = setInterval(() => socket.writable && socket.write("X-A: b\r\n"), 50);
    await closed;
    clearInterval(drip);
  });

  it("closes a connection whose ping body never comes", async () => {
    const answer = await exchange(url, [Buffer.from(ping("r1", '{"status":"ready"}').slice(0, -3))], "");
    expect(answer).toBe("");
  });

  it("closes a connection that idles after its ping is answered", async () => {
    const answer = await exchange(url, [Buffer.from(ping("r1", '{"status":"ready"}'))], "");
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\{"success":true\}$/);
  });

  it("writes the bytes Node writes for the same answer", async () => {
    const body = '{"status":"ready"}';
    const direct = await exchange(url, [Buffer.from(ping("r1", body))], SENTINEL);
    nodeParsed = 0;
    const viaNode = await exchange(url, [Buffer.from(ping("r1", body))], SENTINEL, HEALTHZ);
    expect(nodeParsed).toBe(3);
    expect(undated(direct)).toBe(undated(viaNode));
  });
});

describe("the direct head parser", () => {
  it("reads a head cut anywhere as it reads it whole: not yet known, or the same answer", () => {
    const rand = seeded(5);
    const method = Buffer.from("PUT");
    for (let i = 0; i < 300; i++) {
      const bytes = request(rand, "s", "r", "t0ken");
      const whole = parseDirectHead(bytes, 0, method);
      for (let k = 1; k < bytes.length; k++) {
        const part = parseDirectHead(bytes.subarray(0, k), 0, method);
        if (part.kind !== "incomplete") expect(part, bytes.toString("latin1")).toEqual(whole);
      }
    }
  });

  it("takes only the plain requests it can frame as Node does", () => {
    const method = Buffer.from("PUT");
    const head = (text: string) => parseDirectHead(Buffer.from(text, "latin1"), 0, method).kind;
    const ok = "PUT /a HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n{}";
    expect(head(ok)).toBe("request");
    expect(parseDirectHead(Buffer.from(`xx${ok}`), 2, method)).toMatchObject({ target: "/a", contentLength: 2 });
    for (const other of [
      ok.replace("Content-Length: 2", "Content-Length: 2\r\nContent-Length: 2"),
      ok.replace("Content-Length: 2", "Transfer-Encoding: chunked"),
      ok.replace("Content-Length: 2", "Content-Length: 2\r\nTransfer-Encoding: identity"),
      ok.replace("Host: h", "Host: h\r\n x"),
      ok.replace("Host: h", "Host:"),
      ok.replace("Host: h\r\n", ""),
      ok.replace("Host: h", "Host: h\r\nhost: i"),
      ok.replace("Host: h", "Host: h\nX: y"),
      ok.replace("Host: h", "Host: h\rX: y"),
      ok.replace("Host: h", "Host : h"),
      ok.replace("Host: h", "Host: h\u00e9"),
      ok.replace("Host: h", "Host: h\u0000"),
      ok.replace("/a", "/a?b"),
      ok.replace("/a", "/%61"),
      ok.replace("/a", "*"),
      ok.replace("PUT", "put"),
      ok.replace("HTTP/1.1", "HTTP/1.0"),
      ok.replace("Content-Length: 2", "Content-Length: +2"),
      ok.replace("Content-Length: 2", "Content-Length: 123456"),
      ok.replace("Content-Length: 2", "Connection: close\r\nContent-Length: 2"),
      ok.replace("Content-Length: 2", "Expect: 100-continue\r\nContent-Length: 2"),
      ok.replace("Content-Length: 2", "Upgrade: h2c\r\nContent-Length: 2"),
      ok.replace("Content-Length: 2", "Authorization: a\r\nAuthorization: b\r\nContent-Length: 2"),
      `\r\n${ok}`,
      ok.replace("Host: h", `Host: h\r\nX: ${"y".repeat(9000)}`),
    ]) {
      expect(head(other), JSON.stringify(other.slice(0, 120))).toBe("other");
    }
    // An unfinished head goes to Node as soon as it shows it is not one to take.
    expect(head("GET /a HT")).toBe("other");
    expect(head("PUT /a HTTP/1.1\nHost")).toBe("other");
    expect(head("PUT /a HTTP/1.1\r\nHost: h\r")).toBe("incomplete");
    expect(head(`PUT /a HTTP/1.1\r\nX: ${"y".repeat(9000)}`)).toBe("other");
  });
});

describe("the rooms API answers any request the same on a direct connection and on one Node parses", () => {
  let maestro: TestMaestro;
  let room: string;
  let token: string;
  const S = "direct";

  beforeAll(async () => {
    maestro = await startTestMaestro({ "limits.headersTimeoutMs": 2000, "limits.idleTimeoutMs": 2000 });
    await api(maestro.managementUrl, "POST", "/schedulers", schedulerBody(S, { roomsReplicas: 1 }));
    room = await eventually(
      async () => (await api(maestro.managementUrl, "GET", `/schedulers/${S}/rooms`)).json.rooms?.[0]?.id,
      { what: "a room" },
    );
    token = maestro.context.tokens.tokenFor(S, room);
  });
  afterAll(async () => maestro?.stop());

  it("for 400 seeded variations of a ping", async () => {
    const rand = seeded(17);
    const body = '{"status":"ready"}';
    const plain = `PUT /scheduler/${S}/rooms/${room}/ping HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const differences: string[] = [];
    for (let i = 0; i < 400; i++) {
      const req = request(rand, S, room, token);
      // Whole: a server that closes on a bad head before reading all of it resets the connection, and the client may
      // lose the answer. Heads cut anywhere are parsed alike (the prefix test below).
      const direct = await exchange(maestro.roomsUrl, [req], SENTINEL, plain);
      const viaNode = await exchange(maestro.roomsUrl, [req], SENTINEL, HEALTHZ);
      if (undated(direct) !== undated(viaNode)) {
        differences.push(
          `${JSON.stringify(req.toString("latin1").slice(0, 400))}\n direct: ${JSON.stringify(direct)}\n node:   ${JSON.stringify(viaNode)}`,
        );
      }
    }
    expect(differences.slice(0, 3).join("\n\n")).toBe("");
  });
});
