import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** Which rooms API route a request hit. */
export type RoomsApiRequestKind = "ping" | "roomevent" | "playerevent" | "unknown";

/** JSON body as the rooms API reads it; other fields are kept too. */
export interface RecordedBody {
  status?: string;
  timestamp?: string;
  runningMatches?: number;
  event?: string;
  metadata?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface RecordedRequest {
  method: string;
  path: string;
  kind: RoomsApiRequestKind;
  schedulerName: string | undefined;
  roomId: string | undefined;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** Parsed JSON body ({} when the body was empty or not JSON; see `rawBody`). */
  body: RecordedBody;
  rawBody: string;
  /** HTTP status the fake answered with. */
  responseStatus: number;
  receivedAt: Date;
}

export interface FakeRoomsApiOptions {
  /** Port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /** When set, requests without `Authorization: Bearer <token>` get 401. */
  token?: string;
  /** Called after each request was answered, e.g. to log it. */
  onRequest?: (request: RecordedRequest) => void;
}

export interface FailOptions {
  /** Which route to fail; `"any"` fails whatever comes next. @defaultValue "ping" */
  kind?: RoomsApiRequestKind | "any";
  /** HTTP status to answer; 200 answers `{"success": false}` like the real API does for storage failures. @defaultValue 500 */
  status?: number;
  message?: string;
}

export interface WaitForOptions {
  /** @defaultValue 10_000 */
  timeoutMs?: number;
  /** Resolve on the n-th matching request. @defaultValue 1 */
  count?: number;
  signal?: AbortSignal;
}

export interface FakeRoomsApi {
  /** Base URL to use as MAESTRO_ROOMS_API_URL. */
  readonly url: string;
  readonly port: number;
  /** Every request received, in arrival order (including failed and rejected ones). */
  readonly requests: readonly RecordedRequest[];
  /** Recorded requests of one kind. */
  requestsOf(kind: RoomsApiRequestKind): RecordedRequest[];
  /** Resolves with the `count`-th recorded request matching `predicate`, counting requests already received. */
  waitFor(predicate: (request: RecordedRequest) => boolean, options?: WaitForOptions): Promise<RecordedRequest>;
  /** Answers the next `count` matching requests with an error instead of success. */
  failNext(count: number, options?: FailOptions): void;
  /** Forgets recorded requests and pending failures. */
  reset(): void;
  close(): Promise<void>;
}

interface FailRule {
  remaining: number;
  kind: RoomsApiRequestKind | "any";
  status: number;
  message: string;
}

interface Waiter {
  predicate: (request: RecordedRequest) => boolean;
  count: number;
  resolve: (request: RecordedRequest) => void;
}

// gRPC status numbers, as the real API puts them in error bodies.
const GRPC_INVALID_ARGUMENT = 3;
const GRPC_NOT_FOUND = 5;
const GRPC_INTERNAL = 13;
const GRPC_UNAUTHENTICATED = 16;

const ROUTE = /^\/scheduler\/([^/]+)\/rooms\/([^/]+)\/(ping|roomevent|playerevent)$/;
const METHODS: Record<Exclude<RoomsApiRequestKind, "unknown">, string> = {
  ping: "PUT",
  roomevent: "POST",
  playerevent: "POST",
};
const STATUSES = new Set(["ready", "occupied", "terminating", "terminated"]);
const PLAYER_EVENTS = new Set(["playerJoin", "playerLeft"]);

/**
 * A real HTTP server on 127.0.0.1 that speaks the room-facing half of Maestro's rooms API, records every request
 * and validates bodies like the real one, so game servers can be tested without Maestro.
 */
export async function startFakeRoomsApi(options: FakeRoomsApiOptions = {}): Promise<FakeRoomsApi> {
  const requests: RecordedRequest[] = [];
  const waiters = new Set<Waiter>();
  let failRules: FailRule[] = [];

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const recorded = handle(req, res, Buffer.concat(chunks).toString("utf8"));
      requests.push(recorded);
      options.onRequest?.(recorded);
      for (const waiter of waiters) {
        if (!waiter.predicate(recorded)) continue;
        waiter.count -= 1;
        if (waiter.count === 0) waiter.resolve(recorded);
      }
    });
  });

  function handle(req: IncomingMessage, res: ServerResponse, rawBody: string): RecordedRequest {
    const method = req.method ?? "GET";
    const path = new URL(req.url ?? "/", "http://fake").pathname;
    const match = ROUTE.exec(path);
    const kind = (match?.[3] as RoomsApiRequestKind | undefined) ?? "unknown";
    const parsed = parseBody(rawBody);
    const recorded: RecordedRequest = {
      method,
      path,
      kind,
      schedulerName: match?.[1] === undefined ? undefined : decodeURIComponent(match[1]),
      roomId: match?.[2] === undefined ? undefined : decodeURIComponent(match[2]),
      headers: flattenHeaders(req.headers),
      body: parsed ?? {},
      rawBody,
      responseStatus: 0,
      receivedAt: new Date(),
    };
    const reply = (status: number, body: unknown): RecordedRequest => {
      recorded.responseStatus = status;
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
      return recorded;
    };

    if (options.token !== undefined && recorded.headers["authorization"] !== `Bearer ${options.token}`) {
      return reply(401, { code: GRPC_UNAUTHENTICATED, message: "missing or wrong room token" });
    }
    if (kind === "unknown" || method !== METHODS[kind]) {
      return reply(404, { code: GRPC_NOT_FOUND, message: `no route for ${method} ${path}` });
    }
    if (parsed === undefined) return reply(400, { code: GRPC_INVALID_ARGUMENT, message: "body is not a JSON object" });
    const invalid = validate(kind, parsed);
    if (invalid) return reply(400, { code: GRPC_INVALID_ARGUMENT, message: invalid });

    const rule = failRules.find((r) => r.remaining > 0 && (r.kind === "any" || r.kind === kind));
    if (rule) {
      rule.remaining -= 1;
      failRules = failRules.filter((r) => r.remaining > 0);
      if (rule.status === 200) return reply(200, { success: false, message: rule.message });
      return reply(rule.status, { code: GRPC_INTERNAL, message: rule.message });
    }
    return reply(200, kind === "ping" ? { success: true } : { success: true, message: "" });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    requestsOf: (kind) => requests.filter((r) => r.kind === kind),
    waitFor(predicate, { timeoutMs = 10_000, count = 1, signal } = {}) {
      const already = requests.filter(predicate);
      const hit = already[count - 1];
      if (hit) return Promise.resolve(hit);
      return new Promise<RecordedRequest>((resolve, reject) => {
        const done = (): void => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          waiters.delete(waiter);
        };
        const waiter: Waiter = {
          predicate,
          count: count - already.length,
          resolve: (request) => {
            done();
            resolve(request);
          },
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`fake rooms API: no matching request within ${timeoutMs} ms; got ${summary(requests)}`));
        }, timeoutMs);
        const onAbort = (): void => {
          done();
          reject(signal?.reason);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        waiters.add(waiter);
      });
    },
    failNext(count, { kind = "ping", status = 500, message = "injected failure" } = {}) {
      failRules.push({ remaining: count, kind, status, message });
    },
    reset() {
      requests.length = 0;
      failRules = [];
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

function validate(kind: Exclude<RoomsApiRequestKind, "unknown">, body: RecordedBody): string | undefined {
  if (kind === "ping") {
    if (typeof body.status !== "string" || !STATUSES.has(body.status)) return `invalid ping status ${body.status}`;
    if (body.runningMatches !== undefined && !Number.isInteger(body.runningMatches)) {
      return "runningMatches must be an integer";
    }
    return undefined;
  }
  if (typeof body.event !== "string" || body.event === "") return "event is required";
  if (kind === "playerevent") {
    if (!PLAYER_EVENTS.has(body.event)) return `invalid player event ${body.event}`;
    if (typeof body.metadata?.["playerId"] !== "string") return "metadata.playerId is required";
  }
  return undefined;
}

function parseBody(raw: string): RecordedBody | undefined {
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as RecordedBody) : undefined;
  } catch {
    return undefined;
  }
}

function flattenHeaders(headers: IncomingMessage["headers"]): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return flat;
}

function summary(requests: readonly RecordedRequest[]): string {
  if (requests.length === 0) return "no requests";
  const last = requests.slice(-10).map((r) => `${r.method} ${r.path} ${r.body.status ?? r.body.event ?? ""}`.trim());
  return `${requests.length} request(s), last: ${last.join("; ")}`;
}
