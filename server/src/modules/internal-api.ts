import fastify from "fastify";
import type { MaestroContext } from "../wiring/maestro-context.js";
import { checkReadiness } from "../wiring/readiness.js";
import { listen } from "./listen.js";

/**
 * Health and metrics for every `maestro start` process, whatever modules it runs (Maestro's internalApi):
 * /healthz says the process is alive, /readyz that its storage, Redis and runtime answer (503 with the reasons
 * otherwise, and while shutting down), /metrics is this process's Prometheus registry.
 */
export async function startInternalApi(
  ctx: Pick<MaestroContext, "readiness" | "logger" | "metrics" | "config">,
  opts: { render: () => Promise<string>; stopping: () => boolean },
): Promise<{ url: string; close(): Promise<void> }> {
  const app = fastify({ logger: false, forceCloseConnections: true });
  app.get("/healthz", async () => "OK");
  app.get("/health", async () => "OK");
  app.get("/readyz", async (_req, reply) => {
    const report = await checkReadiness(ctx.readiness, opts.stopping() ? ["shutting down"] : []);
    if (report.ready) return { status: "ok", checks: report.checks };
    ctx.logger.warn({ module: "internal-api", reasons: report.reasons }, "not ready");
    return reply.code(503).send({ status: "unavailable", reasons: report.reasons, checks: report.checks });
  });
  app.get("/metrics", async (_req, reply) => reply.type(ctx.metrics.contentType).send(await opts.render()));
  const url = await listen(app, ctx.config.internalApi.host, ctx.config.internalApi.port);
  return { url, close: () => app.close() };
}
