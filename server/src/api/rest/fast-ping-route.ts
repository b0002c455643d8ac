import type { IncomingMessage, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { Code } from "@connectrpc/connect";
import { RoomsService } from "@maestro/proto";
import type { HttpRecorder } from "../../adapters/metrics/maestro-metrics.js";
import type { Logger } from "../../core/ports/logger.js";
import type { RpcAuthorizer } from "../auth/rpc-authorizer.js";
import { httpStatusOf, toConnectError } from "../errors.js";
import type { DirectAnswer, FastRoute } from "../http/fast-route.js";
import { refuseNulBytes } from "../limits/nul-bytes.js";
import type { PingInput } from "../services/rooms-service.js";
import { decodeRestInput, routeSpecOf } from "./transcoder.js";

export interface FastPingOptions {
  ping: (req: PingInput, signal?: AbortSignal) => Promise<void>;
  authorizer?: RpcAuthorizer | undefined;
  logger: Logger;
  record?: HttpRecorder | undefined;
  /** limits.restBodyBytes: larger bodies go the generic way, which refuses them in the API's shape. */
  restBodyBytes: number;
  ignoreUnknownFields: boolean;
}

/** The template the generic route registers (metrics label it so on either path). */
export const PING_ROUTE = "/scheduler/:scheduler_name/rooms/:room_name/ping";

// Only names that need no decoding and fit Fastify's parameter limit (100): anything else is Fastify's to judge.
const pingPath = /^\/scheduler\/([\w.~-]{1,100})\/rooms\/([\w.~-]{1,100})\/ping$/;
// Bodies of a normal ping are tens of bytes; past this the generic path (with its streaming limit) reads them.
const MAX_FAST_BODY = 16 * 1024;
// What the generic path would answer for a ping: `{"success":true}` (UpdateRoomWithPingResponse, implicit emitted).
// A string, not a Buffer: Node then sends head and body in one write instead of a writev of two.
const OK: DirectAnswer = { status: 200, body: '{"success":true}' };
const JSON_TYPE = "application/json; charset=utf-8";
const OK_HEADERS = ["content-type", JSON_TYPE, "content-length", String(OK.body.length)];
const pingMethod = RoomsService.method.updateRoomWithPing;
const simpleKeys = new Set(["status", "timestamp", "runningMatches", "metadata"]);

/**
 * `PUT /scheduler/{s}/rooms/{r}/ping` off Fastify's generic path: a room pings every few seconds, so this is most of a
 * rooms API's traffic (issue 17: Fastify's routing, hooks and reply, the per-request abort controller and the
 * JSON → message → JSON round trip were over half of a ping's CPU). It answers exactly as the generic route does —
 * same checks in the same order (authorization, NUL bytes, the ping's own validation), same statuses, error bodies,
 * headers and metrics — and leaves to Fastify every request it is not sure about (percent-encoded names, a query,
 * no or a large declared length, chunked bodies, a server closing). Bodies that are not a plain ping (unknown keys,
 * numbers as strings, null) are decoded by the generic route's own decoder.
 *
 * It is served two ways: `direct`, straight off the socket for connections that send only plain pings
 * (api/http/direct-connection.ts), and `handle`, for pings on connections Node's HTTP server took over.
 */
export function fastPingRoute(opts: FastPingOptions): FastRoute {
  const spec = routeSpecOf(pingMethod);
  const bodyMax = Math.min(MAX_FAST_BODY, opts.restBodyBytes);
  const failure = (err: unknown): DirectAnswer => {
    const e = toConnectError(err);
    if (e.code === Code.Internal) opts.logger.error({ err, route: PING_ROUTE }, "request failed");
    return { status: httpStatusOf(e.code), body: JSON.stringify({ code: e.code, message: e.rawMessage, details: [] }) };
  };
  const serve = async (
    path: RegExpExecArray,
    authorization: string | undefined,
    text: string,
    started: number,
  ): Promise<DirectAnswer> => {
    let answer = OK;
    try {
      const input = decode(text, path[1] as string, path[2] as string);
      opts.authorizer?.check(pingMethod, authorization, input);
      refuseNulBytes(input.json);
      // No abort signal: the one Redis step completes on the server whether or not the room is still listening.
      await opts.ping(input);
    } catch (err) {
      answer = failure(err);
    }
    opts.record?.("PUT", PING_ROUTE, answer.status, performance.now() - started);
    return answer;
  };
  const decode = (text: string, schedulerName: string, roomName: string): PingInput & { json: unknown } => {
    const simple = simplePing(text);
    if (simple !== undefined) {
      const runningMatches = simple.runningMatches as number | undefined;
      return {
        schedulerName,
        roomName,
        status: simple.status as string,
        runningMatches: runningMatches === undefined ? 0n : BigInt(runningMatches),
        metadata: simple.metadata as Record<string, unknown> | undefined,
        json: simple,
      };
    }
    const { json, input } = decodeRestInput(
      spec,
      undefined,
      text,
      // Named as the generic route's parameters (the proto's path variables): a body naming them too is refused alike.
      { scheduler_name: schedulerName, room_name: roomName },
      opts.ignoreUnknownFields,
    );
    const message = input as unknown as PingInput;
    return {
      schedulerName: message.schedulerName,
      roomName: message.roomName,
      status: message.status,
      runningMatches: message.runningMatches,
      metadata: message.metadata,
      json,
    };
  };
  const reply = (res: ServerResponse, answer: DirectAnswer) => {
    res.writeHead(
      answer.status,
      answer === OK
        ? OK_HEADERS
        : ["content-type", JSON_TYPE, "content-length", String(Buffer.byteLength(answer.body))],
    );
    res.end(answer.body);
  };
  const handle = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== "PUT") return false;
    const path = pingPath.exec(req.url ?? "");
    if (path === null) return false;
    const length = req.headers["content-length"];
    if (length === undefined || req.headers["transfer-encoding"] !== undefined) return false;
    const declared = Number(length);
    if (!(declared > 0 && declared <= bodyMax)) return false;
    const started = performance.now();
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      text += chunk;
    });
    req.on("end", () => {
      // serve answers every error itself; this only keeps a broken socket from becoming an unhandled rejection.
      serve(path, req.headers.authorization, text, started)
        .then((answer) => reply(res, answer))
        .catch((err: unknown) => {
          opts.logger.error({ err, route: PING_ROUTE }, "request failed");
          res.destroy();
        });
    });
    req.on("error", () => res.destroy());
    return true;
  };
  return {
    handle,
    direct: { method: Buffer.from("PUT"), bodyMax, match: (target) => pingPath.exec(target), serve },
  };
}

/**
 * The body when it is a plain ping that ProtoJSON would decode to the same values (known camelCase keys, a string
 * status, safe integers, a metadata object); undefined sends it through the generic decoder, which also words the
 * refusals.
 */
function simplePing(text: string): Record<string, unknown> | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  const fields = body as Record<string, unknown>;
  for (const key in fields) {
    if (!simpleKeys.has(key)) return undefined;
  }
  const { status, timestamp, runningMatches, metadata } = fields;
  if (typeof status !== "string") return undefined;
  if (timestamp !== undefined && !Number.isSafeInteger(timestamp)) return undefined;
  if (runningMatches !== undefined && !Number.isSafeInteger(runningMatches)) return undefined;
  if (metadata !== undefined && (typeof metadata !== "object" || metadata === null || Array.isArray(metadata))) {
    return undefined;
  }
  return fields;
}
