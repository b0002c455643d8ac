import { createConnectTransport } from "@connectrpc/connect-node";
import { authInterceptors, createMaestroClientWith, type MaestroClient, type MaestroClientOptions } from "./client.js";
import { fetchTransport } from "./fetch-client.js";

/** A client over Node's http module, or over `options.fetch` when given. */
export function createMaestroClient(options: MaestroClientOptions): MaestroClient {
  return createMaestroClientWith(options, (url, o) =>
    o.fetch
      ? fetchTransport(url, o, o.fetch)
      : createConnectTransport({
          baseUrl: url,
          httpVersion: "1.1",
          interceptors: authInterceptors(o),
          defaultTimeoutMs: o.timeoutMs,
        }),
  );
}
