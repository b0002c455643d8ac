import type { FastifyInstance } from "fastify";
import type { MaestroMetrics } from "./maestro-metrics.js";

/**
 * Counts and times every answered request by route template (`/schedulers/:schedulerName`), never the raw URL, so the
 * number of series stays bounded; requests matching no route share the template `unmatched`. Register before routes.
 */
export function registerHttpMetrics(app: FastifyInstance, metrics: MaestroMetrics, service: string): void {
  const record = metrics.httpRecorder(service);
  app.addHook("onResponse", (request, reply, done) => {
    record(
      request.method,
      request.is404 ? "unmatched" : (request.routeOptions.url ?? "unmatched"),
      reply.statusCode,
      reply.elapsedTime,
    );
    done();
  });
}
