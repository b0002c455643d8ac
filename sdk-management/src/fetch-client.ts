import type { Transport } from "@connectrpc/connect";
import { type UniversalClientFn, universalClientResponseFromFetch } from "@connectrpc/connect/protocol";
import { createTransport } from "@connectrpc/connect/protocol-connect";
import { authInterceptors, type MaestroClientOptions } from "./client.js";
import { concat, conditionalGets } from "./conditional-gets.js";

/**
 * A Connect HTTP client over a caller's fetch. Connect's own createFetchClient streams the request body, which
 * Node's fetch refuses without `duplex: "half"`; unary bodies are small, so they are buffered instead.
 */
export function fetchHttpClient(fetchFn: typeof globalThis.fetch): UniversalClientFn {
  return async (req) => {
    let body: Uint8Array | undefined;
    if (req.body !== undefined) {
      const chunks: Uint8Array[] = [];
      for await (const chunk of req.body) chunks.push(chunk);
      body = concat(chunks);
    }
    const res = await fetchFn(req.url, { method: req.method, headers: req.header, signal: req.signal, body });
    const response = universalClientResponseFromFetch(res);
    // fetch has already decoded a gzip/br body (browsers always send Accept-Encoding, so the server compresses
    // large replies); left in place, these headers describe the encoded body and Connect would refuse the decoded one.
    const header = new Headers(res.headers);
    header.delete("content-encoding");
    header.delete("content-length");
    return { ...response, header };
  };
}

/** The Connect protocol over fetch; used in browsers, and in Node when the caller passes `fetch`. */
export function fetchTransport(url: string, o: MaestroClientOptions, fetchFn: typeof globalThis.fetch): Transport {
  return createTransport({
    baseUrl: url,
    interceptors: authInterceptors(o),
    defaultTimeoutMs: o.timeoutMs,
    httpClient: conditionalGets(fetchHttpClient(fetchFn)),
    useBinaryFormat: true,
    useHttpGet: true,
    readMaxBytes: 0xffffffff,
    writeMaxBytes: 0xffffffff,
    compressMinBytes: 1024,
    sendCompression: null,
    acceptCompression: [],
  });
}
