import type { FastifyInstance } from "fastify";

/** At least this long for in-flight requests, even when the worker's drain used up the shutdown budget. */
const MIN_DRAIN_MS = 500;

/**
 * Stops accepting connections and lets requests in flight finish until `deadline` (epoch ms); connections still open
 * then are cut. Requests arriving meanwhile on kept-alive connections get 503 (Fastify's return503OnClosing).
 */
export async function closeGracefully(app: FastifyInstance, deadline: number): Promise<{ forced: boolean }> {
  const closing = app.close();
  let timer: NodeJS.Timeout | undefined;
  const forced = await Promise.race([
    closing.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), Math.max(MIN_DRAIN_MS, deadline - Date.now()));
    }),
  ]);
  clearTimeout(timer);
  if (forced) {
    (app.server as { closeAllConnections?: () => void }).closeAllConnections?.();
    await closing;
  }
  return { forced };
}
