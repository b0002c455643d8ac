import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ForwardCallOptions, Logger } from "@maestro/server/plugin";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { IDEMPOTENCY_HEADER, SIGNATURE_HEADER, verifySignature, webhookForwarderPlugin } from "../src/index.js";

const logger: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => logger };
const SECRET = "s3cret";

interface Received {
  headers: IncomingMessage["headers"];
  body: string;
}

/** A real HTTP receiver; `reply` decides each answer (status code, or "hang" to never answer). */
async function startReceiver() {
  const received: Received[] = [];
  let reply: (n: number) => number | "hang" = () => 204;
  const hanging: ServerResponse[] = [];
  const server: Server = createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    received.push({ headers: req.headers, body });
    const answer = reply(received.length);
    if (answer === "hang") hanging.push(res);
    else res.writeHead(answer).end();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/maestro/events`,
    received,
    setReply(f: typeof reply) {
      reply = f;
    },
    async close() {
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

const room = { game: "tennis", roomId: "room-1", host: "10.0.0.7", port: 40123, metadata: {}, roomType: "" };

describe("webhook forwarder", () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const plugin = webhookForwarderPlugin({ secret: SECRET, attempts: 3, attemptTimeoutMs: 200, backoffMs: 10 });
  const client = () =>
    plugin.create({ name: "hook", enable: true, type: "webhook", address: receiver.url }, { logger });
  const call = (eventId = "event-1"): ForwardCallOptions => ({ signal: AbortSignal.timeout(5000), eventId });

  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterEach(() => {
    receiver.received.length = 0;
    receiver.setReply(() => 204);
  });
  afterAll(async () => receiver.close());

  it("accepts only http(s) URLs as addresses", () => {
    expect(plugin.checkAddress?.("https://mm.example.com/hook")).toBeUndefined();
    expect(plugin.checkAddress?.("mm.example.com:8080")).toMatch(/http/);
  });

  it("posts the event as JSON, signed, with the event id as idempotency key", async () => {
    await client().roomEvent({ room, eventType: "matchStarted" }, call("id-42"));
    expect(receiver.received).toHaveLength(1);
    const [got] = receiver.received;
    expect(got?.headers["content-type"]).toBe("application/json");
    expect(got?.headers[IDEMPOTENCY_HEADER]).toBe("id-42");
    expect(verifySignature(got!.body, got!.headers[SIGNATURE_HEADER] as string, SECRET)).toBe(true);
    expect(verifySignature(got!.body, got!.headers[SIGNATURE_HEADER] as string, "other")).toBe(false);
    expect(JSON.parse(got!.body)).toMatchObject({
      id: "id-42",
      event: "roomEvent",
      forwarder: "hook",
      message: { room, eventType: "matchStarted" },
    });
  });

  it("retries 5xx answers with the same idempotency key until one succeeds", async () => {
    receiver.setReply((n) => (n < 3 ? 503 : 200));
    await client().roomResync({ room, status: "ready" }, call("id-7"));
    expect(receiver.received.map((r) => r.headers[IDEMPOTENCY_HEADER])).toEqual(["id-7", "id-7", "id-7"]);
  });

  it("retries an attempt that timed out", async () => {
    receiver.setReply((n) => (n === 1 ? "hang" : 200));
    await client().roomStatus({ room, status: "terminated" }, call());
    expect(receiver.received).toHaveLength(2);
  });

  it("does not retry a 4xx answer", async () => {
    receiver.setReply(() => 400);
    await expect(
      client().playerEvent(
        { playerId: "p1", room: { game: "tennis", roomId: "room-1" }, eventType: "playerJoin", metadata: {} },
        call(),
      ),
    ).rejects.toThrow(/400/);
    expect(receiver.received).toHaveLength(1);
  });

  it("fails after the last attempt", async () => {
    receiver.setReply(() => 500);
    await expect(client().roomEvent({ room, eventType: "x" }, call())).rejects.toThrow(/500/);
    expect(receiver.received).toHaveLength(3);
  });
});
