import fastify from "fastify";
import { describe, expect, it } from "vitest";
import { dualProtocolServer } from "../../src/api/http/dual-server.js";
import { closeGracefully } from "../../src/modules/close-gracefully.js";

/** An app on the APIs' dual-protocol server with a route that answers after `ms`, and a way to know it was reached. */
async function slowApp(ms: number) {
  const app = fastify({
    serverFactory: dualProtocolServer({ headersTimeoutMs: 10_000, idleTimeoutMs: 60_000 }) as never,
    forceCloseConnections: false,
  });
  let reached!: () => void;
  const arrived = new Promise<void>((r) => {
    reached = r;
  });
  app.get("/slow", async () => {
    reached();
    await new Promise((r) => setTimeout(r, ms));
    return "done";
  });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  return { app, url, arrived };
}

describe("closeGracefully", () => {
  it("lets a request in flight finish before the server closes", async () => {
    const { app, url, arrived } = await slowApp(300);
    const response = fetch(`${url}/slow`).then(async (r) => ({ status: r.status, body: await r.text() }));
    await arrived;
    const closed = closeGracefully(app, Date.now() + 10_000);
    expect(await response).toEqual({ status: 200, body: "done" });
    expect(await closed).toEqual({ forced: false });
    await expect(fetch(`${url}/slow`)).rejects.toThrow();
  });

  it("cuts a request still running at the deadline", async () => {
    const { app, url, arrived } = await slowApp(30_000);
    const response = fetch(`${url}/slow`);
    await arrived;
    expect(await closeGracefully(app, Date.now() + 600)).toEqual({ forced: true });
    await expect(response).rejects.toThrow();
  });
});
