import { type UniversalClientFn, universalClientResponseFromFetch } from "@connectrpc/connect/protocol";

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
      body = Buffer.concat(chunks);
    }
    const res = await fetchFn(req.url, { method: req.method, headers: req.header, signal: req.signal, body });
    return universalClientResponseFromFetch(res);
  };
}
