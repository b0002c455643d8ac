import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, http, schedulerBody, startTestMaestro, type TestMaestro } from "../support/test-maestro.js";

/**
 * Issue 16, fuzzing: hostile requests to the rooms API over REST and Connect JSON — wrong types, unicode and NUL,
 * deep nesting, 1–10 MB bodies, no token, a wrong token — must never get a 5xx or crash the server, and every refusal
 * comes in the API's error shape with a message. Bounded in runs so it fits `npm test` on two cores.
 */
let maestro: TestMaestro;
let roomId: string;
const S = "fuzz";
const summary = { requests: 0, byStatus: new Map<number, number>() };

beforeAll(async () => {
  maestro = await startTestMaestro();
  await http(maestro.managementUrl, "POST", "/schedulers", schedulerBody(S, { roomsReplicas: 1 }));
  roomId = await eventually(
    async () => (await http(maestro.managementUrl, "GET", `/schedulers/${S}/rooms`)).json.rooms?.[0]?.id,
    { what: "a room to aim at" },
  );
});
afterAll(async () => {
  const statuses = [...summary.byStatus].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`);
  console.log(`fuzz: rooms API (fast-check) ${summary.requests} requests, statuses ${statuses.join(" ")}, 0 5xx`);
  await maestro?.stop();
});

const tricky = fc.constantFrom(
  "\u0000",
  "a\u0000b",
  "\uD800",
  "\uDFFF\uD800",
  "🎮🕹️",
  "\u202Eevil",
  "Ω≈ç√",
  "../../etc/passwd",
  "%00",
  "' OR 1=1 --",
  "{{7*7}}",
  "",
  " ",
);
const hostileString = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  tricky,
  fc.tuple(fc.string({ maxLength: 10 }), tricky).map(([a, b]) => a + b),
);
const { value: hostileValue } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    hostileString,
    fc.integer(),
    fc.double(),
    fc.bigInt().map(String),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(hostileString, tie("value"), { maxKeys: 4 }),
  ),
}));
/** Known field names (both spellings) with values of any type, plus unknown ones. */
const fields = fc.record(
  {
    status: fc.oneof(fc.constantFrom("ready", "occupied", "terminating", "terminated"), hostileValue),
    timestamp: hostileValue,
    running_matches: hostileValue,
    runningMatches: hostileValue,
    metadata: hostileValue,
    event: fc.oneof(fc.constantFrom("playerLeft", "roomReady", "resync"), hostileValue),
    metadata_selector: hostileValue,
    idempotency_key: hostileValue,
    scheduler_name: hostileValue,
    room_name: hostileValue,
  },
  { requiredKeys: [] },
);
/** 10,000 levels of nesting, in an array and in an object. */
const deep = fc.constantFrom(
  "[".repeat(10_000) + "]".repeat(10_000),
  `${'{"metadata":'.repeat(10_000)}1${"}".repeat(10_000)}`,
);
const body = fc.oneof(
  { weight: 6, arbitrary: fields.map((f) => JSON.stringify(f)) },
  { weight: 2, arbitrary: hostileValue.map((v) => JSON.stringify(v) ?? "null") },
  { weight: 1, arbitrary: hostileString },
  { weight: 1, arbitrary: deep },
);
const rpcs = [
  { name: "UpdateRoomWithPing", verb: "PUT", path: (s: string, r: string) => `/scheduler/${s}/rooms/${r}/ping` },
  { name: "ForwardRoomEvent", verb: "POST", path: (s: string, r: string) => `/scheduler/${s}/rooms/${r}/roomevent` },
  {
    name: "ForwardPlayerEvent",
    verb: "POST",
    path: (s: string, r: string) => `/scheduler/${s}/rooms/${r}/playerevent`,
  },
  { name: "UpdateRoomStatus", verb: "PUT", path: (s: string, r: string) => `/scheduler/${s}/rooms/${r}/status` },
  { name: "GetRoomAddress", verb: "GET", path: (s: string, r: string) => `/scheduler/${s}/rooms/${r}/address` },
  { name: "AllocateRoom", verb: "POST", path: (s: string) => `/scheduler/${s}/rooms/allocate` },
] as const;
const target = fc.record({
  rpc: fc.constantFrom(...rpcs),
  protocol: fc.constantFrom("rest", "connect"),
  auth: fc.constantFrom("none", "room", "other-room", "garbage"),
  // Mostly the real scheduler and room, so requests get past routing and into the handlers.
  scheduler: fc.oneof({ weight: 4, arbitrary: fc.constant(S) }, { weight: 1, arbitrary: hostileString }),
  room: fc.oneof(
    { weight: 4, arbitrary: fc.constant("") },
    { weight: 1, arbitrary: hostileString },
    {
      weight: 1,
      arbitrary: fc.constantFrom("raw:%FF%FE", "raw:%", "raw:%E0%A4%A", "raw:a%00b", `raw:${"r".repeat(200)}`),
    },
  ),
});

type Target = {
  rpc: (typeof rpcs)[number];
  protocol: "rest" | "connect";
  auth: string;
  scheduler: string;
  room: string;
};

/** Every byte percent-encoded (lone surrogates become U+FFFD); `raw:` segments go as they are (`%FF`, `%`). */
function pathSegment(value: string): string {
  if (value.startsWith("raw:")) return value.slice(4);
  return [...Buffer.from(value, "utf8")].map((b) => `%${b.toString(16).padStart(2, "0")}`).join("");
}

async function send(t: Target, payload: string | Buffer): Promise<void> {
  const room = t.room === "" ? roomId : t.room;
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (t.auth === "room") headers.authorization = `Bearer ${maestro.context.tokens.tokenFor(S, roomId)}`;
  if (t.auth === "other-room") headers.authorization = `Bearer ${maestro.context.tokens.tokenFor(S, "other")}`;
  if (t.auth === "garbage") headers.authorization = "Bearer \u00ff\u00fe";
  let url: string;
  let method: string = t.rpc.verb;
  if (t.protocol === "rest") {
    url = maestro.roomsUrl + t.rpc.path(pathSegment(t.scheduler), pathSegment(room));
  } else {
    url = `${maestro.roomsUrl}/maestro.v1.RoomsService/${t.rpc.name}`;
    method = "POST";
  }
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: method === "GET" ? undefined : payload,
      signal: AbortSignal.timeout(20_000),
    });
  } catch (err) {
    // A header value fetch itself refuses never reached the server.
    if (err instanceof TypeError && /header/i.test(String((err as Error & { cause?: unknown }).cause ?? err))) return;
    throw err;
  }
  const text = await res.text();
  summary.requests++;
  summary.byStatus.set(res.status, (summary.byStatus.get(res.status) ?? 0) + 1);
  const context = `${method} ${url} (${t.auth}) → ${res.status} ${text.slice(0, 300)}`;
  expect(res.status, context).toBeLessThan(500);
  if (res.status === 200) return;
  const error = JSON.parse(text) as { code?: unknown; message?: unknown };
  expect(typeof error.message === "string" && error.message.length > 0, context).toBe(true);
  expect(t.protocol === "rest" ? typeof error.code === "number" : typeof error.code === "string", context).toBe(true);
}

describe("rooms API under hostile input", () => {
  it("answers every hostile request below 500 and in its error shape", async () => {
    await fc.assert(
      fc.asyncProperty(target, body, async (t, payload) => send(t as Target, payload)),
      { numRuns: 400, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31) },
    );
  }, 240_000);

  it("refuses 1–10 MB bodies with or without a token, and stays up", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 10 }),
        target,
        fc.constantFrom("json", "binary"),
        async (mb, t, kind) => {
          const size = mb * 1024 * 1024;
          const payload = kind === "json" ? `{"metadata":{"blob":"${"x".repeat(size)}"}}` : Buffer.alloc(size, 0xff);
          await send({ ...(t as Target), rpc: rpcs[0] }, payload);
        },
      ),
      { numRuns: 8 },
    );
    expect((await http(maestro.roomsUrl, "GET", "/healthz")).status).toBe(200);
    const token = maestro.context.tokens.tokenFor(S, roomId);
    const ping = await http(
      maestro.roomsUrl,
      "PUT",
      `/scheduler/${S}/rooms/${roomId}/ping`,
      { status: "ready" },
      {
        authorization: `Bearer ${token}`,
      },
    );
    expect(ping.status).toBe(200);
  }, 240_000);
});
