import { Agent, request } from "node:http";
import type { AddressInfo } from "node:net";
import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { requestSignal } from "../../src/api/rest/rest-handler-context.js";

// The REST handlers' abort signal (api/rest/rest-handler-context.ts) over a real HTTP/1.1 server and keep-alive client.
let app: FastifyInstance | undefined;
const agents: Agent[] = [];
afterEach(async () => {
  for (const a of agents.splice(0)) a.destroy();
  await app?.close();
  app = undefined;
});

/** A server whose routes hand out their request's signal: `/leave-listener` leaves an abort listener behind, `/hang` never answers. */
async function start() {
  const seen: AbortSignal[] = [];
  const leftover: string[] = [];
  const hanging: Promise<void>[] = [];
  app = Fastify();
  app.get("/plain", async (req, reply) => {
    const signal = requestSignal(req, reply);
    seen.push(signal);
    const listener = () => leftover.push("plain");
    signal.addEventListener("abort", listener);
    signal.removeEventListener("abort", listener);
    return "ok";
  });
  app.get("/leave-listener", async (req, reply) => {
    const signal = requestSignal(req, reply);
    seen.push(signal);
    signal.addEventListener("abort", () => leftover.push("left behind"));
    return "ok";
  });
  app.get("/hang", async (req, reply) => {
    const signal = requestSignal(req, reply);
    seen.push(signal);
    hanging.push(new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true })));
    return new Promise(() => {});
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const port = (app.server.address() as AddressInfo).port;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  agents.push(agent);
  const get = (path: string) =>
    new Promise<string>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path, agent }, (res) => {
        let body = "";
        res.on("data", (c: Buffer) => {
          body += c.toString();
        });
        res.on("end", () => resolve(body));
      });
      req.on("error", reject);
      req.end();
    });
  /** Sends a request to `/hang`, goes away once the server has started on it and waits until its signal aborted. */
  const leave = async () => {
    const req = request({ host: "127.0.0.1", port, path: "/hang", agent });
    req.on("error", () => {});
    req.end();
    const before = seen.length;
    while (seen.length === before) await new Promise((r) => setTimeout(r, 5));
    req.destroy();
    await hanging.at(-1);
  };
  return { seen, leftover, get, leave };
}

describe("REST request signal", () => {
  it("shares one signal among the answered requests of a keep-alive connection, never aborting it", async () => {
    const s = await start();
    for (let i = 0; i < 3; i++) expect(await s.get("/plain")).toBe("ok");
    expect(s.seen).toHaveLength(3);
    expect(new Set(s.seen).size).toBe(1);
    expect(s.seen.every((signal) => !signal.aborted)).toBe(true);
  });

  it("aborts the signal of a request whose client leaves before its answer", async () => {
    const s = await start();
    expect(await s.get("/plain")).toBe("ok");
    await s.leave();
    const [answered, left] = s.seen;
    // The connection's shared signal was the one handed to the request that was left.
    expect(left).toBe(answered);
    expect(left?.aborted).toBe(true);
    expect(s.leftover).toEqual([]);
  });

  it("gives the next request a new signal after one left a listener behind, and never calls that listener", async () => {
    const s = await start();
    expect(await s.get("/leave-listener")).toBe("ok");
    await s.leave();
    const [first, second] = s.seen;
    expect(second).not.toBe(first);
    expect(second?.aborted).toBe(true);
    expect(first?.aborted).toBe(false);
    expect(s.leftover).toEqual([]);
  });
});
