import { createTransport } from "@connectrpc/connect/protocol-connect";
import { compressionBrotli, compressionGzip, createNodeHttpClient } from "@connectrpc/connect-node";
import { authInterceptors, createMaestroClientWith, type MaestroClient, type MaestroClientOptions } from "./client.js";
import { conditionalGets } from "./conditional-gets.js";
import { fetchTransport } from "./fetch-client.js";

/** A client over Node's http module, or over `options.fetch` when given. */
export function createMaestroClient(options: MaestroClientOptions): MaestroClient {
  return createMaestroClientWith(options, (url, o) =>
    o.fetch
      ? fetchTransport(url, o, o.fetch)
      : // What connect-node's createConnectTransport sets up, with reads as conditional GETs.
        createTransport({
          baseUrl: url,
          httpClient: conditionalGets(createNodeHttpClient({ httpVersion: "1.1" })),
          interceptors: authInterceptors(o),
          defaultTimeoutMs: o.timeoutMs,
          useBinaryFormat: true,
          useHttpGet: true,
          sendCompression: null,
          acceptCompression: [compressionGzip, compressionBrotli],
          compressMinBytes: 1024,
          readMaxBytes: 0xffffffff,
          writeMaxBytes: 0xffffffff,
        }),
  );
}
