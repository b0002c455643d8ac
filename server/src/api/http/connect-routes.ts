import { Code, ConnectError, createConnectRouter, type Interceptor } from "@connectrpc/connect";
import type { UniversalServerResponse } from "@connectrpc/connect/protocol";
import * as connectProtocol from "@connectrpc/connect/protocol-connect";
import * as grpcProtocol from "@connectrpc/connect/protocol-grpc";
import * as grpcWebProtocol from "@connectrpc/connect/protocol-grpc-web";
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import type { FastifyInstance } from "fastify";
import type { Logger } from "../../core/ports/logger.js";
import type { ServiceBinding } from "../service-binding.js";
import { etagOf, matchesIfNoneMatch } from "./etag.js";

export interface ConnectRoutesOptions {
  bindings: readonly ServiceBinding[];
  interceptors: Interceptor[];
  readMaxBytes: number;
  logger: Logger;
}

/**
 * Serves the bindings over Connect, gRPC-Web and gRPC in this Fastify scope (register it in a plugin of its own: the
 * no-op body parsers below would otherwise take `application/json` from the REST routes). Connect's Fastify plugin
 * does the same, minus what pollers need: a read RPC (idempotency NO_SIDE_EFFECTS in the proto) sent as a Connect GET
 * gets an ETag, and the same GET with If-None-Match an empty 304 while the answer is unchanged — the SDK and the
 * dashboard poll schedulers, rooms and operations that way.
 */
export function registerConnectRoutes(scope: FastifyInstance, opts: ConnectRoutesOptions): void {
  const router = createConnectRouter({
    readMaxBytes: opts.readMaxBytes,
    interceptors: opts.interceptors,
    acceptCompression: [compressionGzip, compressionBrotli],
  });
  for (const b of opts.bindings) router.service(b.service, b.impl);
  if (router.handlers.length === 0) return;
  // Connect reads the bodies itself (with its size limit); Fastify must leave them unread.
  scope.addContentTypeParser(
    [
      connectProtocol.contentTypeUnaryJson,
      connectProtocol.contentTypeStreamJson,
      grpcWebProtocol.contentTypeProto,
      grpcWebProtocol.contentTypeJson,
      grpcProtocol.contentTypeProto,
      grpcProtocol.contentTypeJson,
    ],
    leaveBodyUnread,
  );
  for (const type of [
    grpcProtocol.contentTypeRegExp,
    grpcWebProtocol.contentTypeRegExp,
    connectProtocol.contentTypeRegExp,
  ]) {
    scope.addContentTypeParser(type, leaveBodyUnread);
  }
  for (const handler of router.handlers) {
    scope.all(handler.requestPath, async (req, reply) => {
      try {
        const res = await handler(universalRequestFromNodeRequest(req.raw, reply.raw, req.body as never, undefined));
        // Headers set by Fastify hooks (metrics, limits) go out with Connect's own.
        for (const [key, value] of Object.entries(reply.getHeaders())) {
          if (value !== undefined) reply.raw.setHeader(key, value);
        }
        if (req.method === "GET" && res.status === 200) {
          await sendConditionally(res, req.headers["if-none-match"], reply.raw);
        } else {
          await universalResponseToNodeResponse(res, reply.raw);
        }
      } catch (err) {
        // The caller went away: nothing to answer.
        if (ConnectError.from(err).code === Code.Aborted) return;
        opts.logger.error({ err, rpc: handler.requestPath }, "request failed");
      }
    });
  }
}

async function sendConditionally(
  res: UniversalServerResponse,
  ifNoneMatch: string | undefined,
  raw: Parameters<typeof universalResponseToNodeResponse>[1],
): Promise<void> {
  const chunks: Uint8Array[] = [];
  if (res.body !== undefined) for await (const chunk of res.body) chunks.push(chunk);
  const body = Buffer.concat(chunks);
  const etag = etagOf(body);
  if (matchesIfNoneMatch(ifNoneMatch, etag)) {
    raw.writeHead(304, { etag });
    raw.end();
    return;
  }
  const header = new Headers(res.header);
  header.set("etag", etag);
  await universalResponseToNodeResponse({ ...res, header, body: once(body) }, raw);
}

async function* once(body: Uint8Array): AsyncIterable<Uint8Array> {
  yield body;
}

function leaveBodyUnread(_req: unknown, _payload: unknown, done: (err: null, body: undefined) => void): void {
  done(null, undefined);
}
