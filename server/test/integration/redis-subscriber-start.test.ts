import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisClient, RedisCancelSignals, waitUntilReady } from "../../src/adapters/storage/redis/index.js";
import type { RedisClient } from "../../src/adapters/storage/redis/redis-client.js";
import { startRedis, type TestRedis } from "../support/redis.js";
import { waitFor } from "../support/wait-for.js";

/**
 * Found on the real node (session 8): a worker pod restarted at start-up on "redis unavailable: Connection is closed".
 * Its main Redis client waits for its connection, but the cancel subscriber's own connection gave up on the first
 * attempt that failed, and with it the worker's start. A connection that reconnects must ride out a failed first
 * attempt as the main client does.
 */
describe("a subscriber connection whose first attempts fail", () => {
  let redis: TestRedis;
  let proxy: Server;
  let client: RedisClient;
  /** Connections the proxy cuts as soon as they open, before forwarding anything. */
  let refuse = 0;
  let refused = 0;
  const open = new Set<Socket>();

  beforeAll(async () => {
    redis = await startRedis();
    proxy = createServer((down) => {
      open.add(down);
      down.on("close", () => open.delete(down));
      if (refuse > 0) {
        refuse--;
        refused++;
        down.destroy();
        return;
      }
      const up = tcpConnect(redis.port, "127.0.0.1");
      open.add(up);
      up.on("close", () => open.delete(up));
      down.pipe(up).pipe(down);
      down.on("error", () => up.destroy());
      up.on("error", () => down.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const { port } = proxy.address() as { port: number };
    client = createRedisClient(`redis://127.0.0.1:${port}`, { name: "subscriber-start" });
    await waitUntilReady(client, { timeoutMs: 10_000 });
  });
  afterAll(async () => {
    client?.disconnect();
    for (const s of open) s.destroy();
    await new Promise((resolve) => proxy?.close(resolve));
    await redis?.stop();
  });

  it("subscribes once a later attempt connects, and hears what is published", async () => {
    refuse = 2;
    const signals = new RedisCancelSignals(client);
    const stop = new AbortController();
    const heard: string[] = [];
    await signals.subscribe(
      async ({ operationId }) => {
        heard.push(operationId);
        return true;
      },
      { signal: stop.signal },
    );
    expect(refused).toBe(2);
    await waitFor(async () => (await signals.publish("s", "op-1")) === 1, "the subscriber to be counted");
    await waitFor(() => heard.includes("op-1"), "the cancel request to be heard");
    stop.abort();
  });
});
