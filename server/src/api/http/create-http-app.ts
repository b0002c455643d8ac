import { fastifyConnectPlugin } from "@connectrpc/connect-fastify";
import fastify, { type FastifyInstance } from "fastify";
import { registerHttpMetrics } from "../../adapters/metrics/http-metrics.js";
import type { MaestroMetrics } from "../../adapters/metrics/maestro-metrics.js";
import type { Logger } from "../../core/ports/logger.js";
import type { RpcAuthorizer } from "../auth/rpc-authorizer.js";
import { toConnectError } from "../errors.js";
import { type RestRoute, registerRestRoutes } from "../rest/transcoder.js";
import type { ServiceBinding } from "../service-binding.js";
import { dualProtocolServer } from "./dual-server.js";

export interface HttpAppOptions {
  name: string;
  bindings: readonly ServiceBinding[];
  logger: Logger;
  /** Answers /readyz: resolves when the dependencies this API needs respond. */
  ready: () => Promise<void>;
  /** Checks the caller of every RPC, on every protocol; none = open. */
  authorizer?: RpcAuthorizer | undefined;
  /** Request counter and duration histogram per route template. */
  metrics?: MaestroMetrics | undefined;
}

/** One Fastify app serving the given services as REST/JSON, Connect, gRPC-Web and gRPC, plus /healthz and /readyz. */
export async function createHttpApp(opts: HttpAppOptions): Promise<{ app: FastifyInstance; restRoutes: RestRoute[] }> {
  const app = fastify({
    serverFactory: dualProtocolServer as never,
    // Route-level logs are too chatty for a ping hot path; errors are logged by our own handlers.
    logger: false,
    // Requests in flight are drained on close (closeGracefully cuts what is left at the deadline).
    forceCloseConnections: false,
  });
  if (opts.metrics) registerHttpMetrics(app, opts.metrics, opts.name);
  await app.register(fastifyConnectPlugin, {
    routes: (router) => {
      for (const b of opts.bindings) router.service(b.service, b.impl);
    },
    interceptors: [
      (next) => async (req) => {
        try {
          opts.authorizer?.check(req.method, req.header.get("authorization"), req.stream ? undefined : req.message);
          return await next(req);
        } catch (err) {
          const e = toConnectError(err);
          if (e.code === 13 /* Internal */) opts.logger.error({ err, rpc: req.url }, "request failed");
          throw e;
        }
      },
    ],
  });
  app.get("/healthz", async () => "OK");
  app.get("/health", async () => "OK");
  app.get("/readyz", async (_req, reply) => {
    try {
      await opts.ready();
      return "OK";
    } catch (err) {
      opts.logger.warn({ err }, `${opts.name} is not ready`);
      const reason = err instanceof Error ? err.message : String(err);
      return reply.code(503).send({ status: "unavailable", reasons: reason.split("; ") });
    }
  });
  let restRoutes: RestRoute[] = [];
  await app.register(async (scope) => {
    restRoutes = registerRestRoutes(scope, opts.bindings, opts.logger, opts.authorizer);
  });
  return { app, restRoutes };
}
