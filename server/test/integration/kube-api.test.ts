import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { KubeApi } from "../../src/adapters/runtime/kubernetes/kube-api.js";
import { isMaestroError, type MaestroError } from "../../src/core/errors.js";

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

/** A stand-in API server answering each request with the handler; counts the requests. */
async function fakeApiServer(handler: Handler): Promise<{ api: KubeApi; requests: () => number; server: Server }> {
  let n = 0;
  const server = createServer((req, res) => handler(req, res, ++n));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      { name: "fake", server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true },
    ],
    users: [{ name: "fake" }],
    contexts: [{ name: "fake", cluster: "fake", user: "fake" }],
    currentContext: "fake",
  });
  const api = new KubeApi({ kubeConfig: kc, requestTimeoutMs: 300, attempts: 4, qps: 1000, burst: 1000 });
  return { api, requests: () => n, server };
}

const status = (res: ServerResponse, code: number, message: string, headers: Record<string, string> = {}) => {
  res.writeHead(code, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", message, code }));
};
const namespace = (res: ServerResponse) => {
  res.writeHead(201, { "content-type": "application/json" });
  res.end(JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: "ok" } }));
};

describe("KubeApi: retries and errors", () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });
  const start = async (handler: Handler) => {
    const fake = await fakeApiServer(handler);
    servers.push(fake.server);
    return fake;
  };
  const create = (api: KubeApi) =>
    api.call("namespace ok", (c) => api.core.createNamespace({ body: { metadata: { name: "ok" } } }, c));

  it("retries 429 (honouring Retry-After) and 5xx until the request succeeds", async () => {
    const { api, requests } = await start((_req, res, n) => {
      if (n === 1) return status(res, 429, "slow down", { "retry-after": "0" });
      if (n === 2) return status(res, 503, "etcd leader changed");
      if (n === 3) return status(res, 500, "internal error");
      namespace(res);
    });
    expect((await create(api)).metadata?.name).toBe("ok");
    expect(requests()).toBe(4);
  });

  it("retries a request that timed out", async () => {
    const { api, requests } = await start((_req, res, n) => {
      if (n === 1) return; // never answers: the per-request timeout aborts it
      namespace(res);
    });
    expect((await create(api)).metadata?.name).toBe("ok");
    expect(requests()).toBe(2);
  });

  it("gives up after the last attempt with unavailable", async () => {
    const { api, requests } = await start((_req, res) => status(res, 503, "no leader"));
    const err = await create(api).catch((e: unknown) => e);
    expect(isMaestroError(err, "unavailable")).toBe(true);
    expect((err as Error).message).toContain("no leader");
    expect(requests()).toBe(4);
  });

  it("422 is invalid_argument with the API server's message, not retried; 409 already_exists; 404 not_found", async () => {
    const { api, requests } = await start((req, res, n) => {
      if (n === 3) return status(res, 409, "exists");
      if (req.method === "DELETE") return status(res, 404, "missing");
      status(res, 422, 'Pod "r" is invalid: spec.containers[0].resources.requests: Invalid value: "lots"');
    });
    const err = await create(api).catch((e: unknown) => e);
    expect(isMaestroError(err, "invalid_argument")).toBe(true);
    expect((err as MaestroError).violations?.[0]?.message).toContain('Invalid value: "lots"');
    expect(requests()).toBe(1);
    const gone = await api
      .call("pod x", (c) => api.core.deleteNamespacedPod({ name: "x", namespace: "y" }, c))
      .catch((e: unknown) => e);
    expect(isMaestroError(gone, "not_found")).toBe(true);
    const dup = await api
      .call("namespace conflict", (c) => api.core.createNamespace({ body: { metadata: { name: "conflict" } } }, c))
      .catch((e: unknown) => e);
    expect(isMaestroError(dup, "already_exists")).toBe(true);
  });

  it("a caller's abort stops the retries with canceled", async () => {
    const { api } = await start((_req, res) => status(res, 503, "busy", { "retry-after": "5" }));
    const controller = new AbortController();
    const pending = api.call(
      "namespace ok",
      (c) => api.core.createNamespace({ body: { metadata: { name: "ok" } } }, c),
      controller.signal,
    );
    setTimeout(() => controller.abort(), 100);
    const err = await pending.catch((e: unknown) => e);
    expect(isMaestroError(err, "canceled")).toBe(true);
  });
});
