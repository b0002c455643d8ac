import { createConnection } from "node:net";
import fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dualProtocolServer } from "../../src/api/http/dual-server.js";

/**
 * The head deadline of the APIs' dual-protocol server runs until a request's declared body is in: a client that
 * never sends it is cut; a route that takes longer than the deadline, with the whole request in, is not.
 */
describe("request deadlines on the dual-protocol server", () => {
  let app: FastifyInstance;
  let url: string;
  const SLOW_MS = 800;

  beforeAll(async () => {
    app = fastify({
      serverFactory: dualProtocolServer({ headersTimeoutMs: 200, idleTimeoutMs: 2_000 }) as never,
      forceCloseConnections: false,
    });
    app.post("/slow", async (req) => {
      await new Promise((r) => setTimeout(r, SLOW_MS));
      return { got: req.body };
    });
    app.get("/slow", async () => {
      await new Promise((r) => setTimeout(r, SLOW_MS));
      return { got: null };
    });
    url = await app.listen({ host: "127.0.0.1", port: 0 });
  });
  afterAll(async () => app?.close());

  it("answers a slow route whose request came whole, with or without a body", async () => {
    const post = await fetch(`${url}/slow`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ a: 1 }),
    });
    expect(await post.json()).toEqual({ got: { a: 1 } });
    const get = await fetch(`${url}/slow`);
    expect(await get.json()).toEqual({ got: null });
  });

  it("closes a connection whose declared body never comes", async () => {
    const { port } = new URL(url);
    const socket = createConnection({ host: "127.0.0.1", port: Number(port) });
    socket.on("error", () => {});
    let answer = "";
    socket.on("data", (c: Buffer) => {
      answer += c.toString();
    });
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.write('POST /slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{"a"');
    await closed;
    expect(answer).toBe("");
  });
});
