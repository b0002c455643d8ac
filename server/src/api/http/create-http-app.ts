import fastify, { type FastifyInstance, type FastifyReply } from "fastify";
import { registerHttpMetrics } from "../../adapters/metrics/http-metrics.js";
import type { HttpRecorder, MaestroMetrics } from "../../adapters/metrics/maestro-metrics.js";
import type { Logger } from "../../core/ports/logger.js";
import type { RpcAuthorizer } from "../auth/rpc-authorizer.js";
import { toConnectError } from "../errors.js";
import { type BodyLimits, registerBodyLimits } from "../limits/body-limits.js";
import { refuseNulBytes } from "../limits/nul-bytes.js";
import { type RestRoute, registerRestRoutes } from "../rest/transcoder.js";
import type { ServiceBinding } from "../service-binding.js";
import { registerConnectRoutes } from "./connect-routes.js";
import { type ConnectionTimeouts, dualProtocolServer } from "./dual-server.js";
import type { FastRoute } from "./fast-route.js";

/** Request size and connection time bounds (the `limits.*` settings). */
export type HttpLimits = BodyLimits & ConnectionTimeouts;

export const defaultHttpLimits: HttpLimits = {
  restBodyBytes: 4 * 1024 * 1024,
  connectBodyBytes: 4 * 1024 * 1024,
  grpcWebBodyBytes: 4 * 1024 * 1024,
  grpcBodyBytes: 4 * 1024 * 1024,
  headersTimeoutMs: 10_000,
  idleTimeoutMs: 60_000,
};

/** Fastify's router refuses path parameters longer than this on its own; we answer in our error shape. */
const MAX_PARAM_LENGTH = 100;

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
  limits?: HttpLimits | undefined;
  /**
   * Serves its requests before Fastify sees them (the rooms API's ping); built with what the app resolved: the
   * metrics recorder and the limits. Fastify's hooks do not run for them: a hook added to this app (a limit, a
   * policy) must also be applied there (api/rest/fast-ping-route.ts), or that route must leave such requests to Fastify.
   */
  fastRoute?: ((app: { record?: HttpRecorder | undefined; limits: HttpLimits }) => FastRoute) | undefined;
  /** REST drops unknown JSON keys instead of refusing them (Maestro's leniency; off by default). */
  ignoreUnknownFields?: boolean | undefined;
}

/** One Fastify app serving the given services as REST/JSON, Connect, gRPC-Web and gRPC, plus /healthz and /readyz. */
export async function createHttpApp(opts: HttpAppOptions): Promise<{ app: FastifyInstance; restRoutes: RestRoute[] }> {
  const limits = opts.limits ?? defaultHttpLimits;
  const app = fastify({
    serverFactory: dualProtocolServer(
      limits,
      opts.fastRoute?.({ record: opts.metrics?.httpRecorder(opts.name), limits }),
    ) as never,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Errors Fastify raises before a route runs (bad percent-encoding, an over-long path parameter) in our shape.
    frameworkErrors: (err, _req, reply) => {
      const status = (err as { statusCode?: number }).statusCode ?? 400;
      const message = status === 414 ? `a path parameter is longer than ${MAX_PARAM_LENGTH} characters` : err.message;
      void (reply as FastifyReply).code(status).send({ code: 3 /* InvalidArgument */, message, details: [] });
    },
    // Route-level logs are too chatty for a ping hot path; errors are logged by our own handlers.
    logger: false,
    // Requests in flight are drained on close (closeGracefully cuts what is left at the deadline).
    forceCloseConnections: false,
  });
  if (opts.metrics) registerHttpMetrics(app, opts.metrics, opts.name);
  const connectPaths = new Set(
    opts.bindings.flatMap((b) => b.service.methods.map((m) => `/${b.service.typeName}/${m.name}`)),
  );
  registerBodyLimits(app, limits, connectPaths);
  await app.register(async (scope) =>
    registerConnectRoutes(scope, {
      bindings: opts.bindings,
      logger: opts.logger,
      // Bodies with no declared length are cut while read; the largest per-protocol limit bounds them all.
      readMaxBytes: Math.max(limits.connectBodyBytes, limits.grpcWebBodyBytes, limits.grpcBodyBytes),
      interceptors: [
        (next) => async (req) => {
          try {
            opts.authorizer?.check(req.method, req.header.get("authorization"), req.stream ? undefined : req.message);
            if (!req.stream) refuseNulBytes(req.message);
            return await next(req);
          } catch (err) {
            const e = toConnectError(err);
            if (e.code === 13 /* Internal */) opts.logger.error({ err, rpc: req.url }, "request failed");
            throw e;
          }
        },
      ],
    }),
  );
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
    restRoutes = registerRestRoutes(scope, opts.bindings, opts.logger, opts.authorizer, limits.restBodyBytes, {
      ignoreUnknownFields: opts.ignoreUnknownFields === true,
    });
  });
  return { app, restRoutes };
}
