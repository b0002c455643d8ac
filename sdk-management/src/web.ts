/**
 * Browser entry (`@maestro/sdk-management/web`): the same client over the browser's fetch, without the Node-only
 * transport and the maestroctl helpers.
 */
import { createMaestroClientWith, type MaestroClient, type MaestroClientOptions } from "./client.js";
import { fetchTransport } from "./fetch-client.js";

export * from "./client-exports.js";

/** A client over `options.fetch`, or the page's fetch. */
export function createMaestroClient(options: MaestroClientOptions): MaestroClient {
  // A bare `fetch` reference loses its `this` (window) in some browsers when called as a property.
  const fetchFn = options.fetch ?? ((...args: Parameters<typeof fetch>) => globalThis.fetch(...args));
  return createMaestroClientWith(options, (url, o) => fetchTransport(url, o, fetchFn));
}
