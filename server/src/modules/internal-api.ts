import fastify from "fastify";
import type { MaestroContext } from "../wiring/maestro-context.js";
import { listen } from "./listen.js";

/** Health and metrics for every `maestro start` process, whatever modules it runs (Maestro's internalApi). */
export async function startInternalApi(
  ctx: MaestroContext,
  metrics: (() => string) | undefined,
): Promise<{ url: string; close(): Promise<void> }> {
  const app = fastify({ logger: false, forceCloseConnections: true });
  app.get("/healthz", async () => "OK");
  app.get("/health", async () => "OK");
  app.get("/readyz", async (_req, reply) => {
    try {
      await ctx.schedulerStorage.listSchedulerNames();
      return "OK";
    } catch {
      return reply.code(503).send("Service Unavailable");
    }
  });
  app.get("/metrics", async (_req, reply) => reply.type("text/plain; version=0.0.4").send(metrics?.() ?? ""));
  const url = await listen(app, ctx.config.internalApi.host, ctx.config.internalApi.port);
  return { url, close: () => app.close() };
}
