import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import {
  createRedisClient,
  RedisOperationQueue,
  RedisOperationStorage,
} from "../../src/adapters/storage/redis/index.js";
import type { Operation } from "../../src/core/entities/operation.js";
import { startMaestroCli } from "../support/maestro-cli.js";
import { startRedis, type TestRedis } from "../support/redis.js";
import { eventually, http, schedulerBody, startTestMaestro } from "../support/test-maestro.js";

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

describe("/readyz", () => {
  it("answers 503 naming Redis while it is down, and 200 again once it is back", async () => {
    let redis: TestRedis = await startRedis();
    cleanups.push(() => redis.stop());
    const maestro = await startTestMaestro({
      "storage.operations.kind": "redis",
      "storage.operations.url": redis.url,
      "storage.state.kind": "redis",
    });
    cleanups.push(() => maestro.stop());
    const internal = maestro.urls.internalApi;
    const ok = await http(internal, "GET", "/readyz");
    expect(ok.status).toBe(200);
    expect(ok.json.checks).toContainEqual({ name: `redis ${redis.url}`, ok: true });

    await redis.stop();
    const down = await eventually(
      async () => {
        const r = await http(internal, "GET", "/readyz");
        return r.status === 503 ? r : false;
      },
      { what: "/readyz 503 with Redis stopped" },
    );
    expect(down.json.status).toBe("unavailable");
    expect(down.json.reasons).toEqual([expect.stringMatching(new RegExp(`^redis ${redis.url}: `))]);
    expect(down.json.checks).toContainEqual(expect.objectContaining({ name: "scheduler-storage (pglite)", ok: true }));
    // The APIs' own /readyz say the same.
    const api = await http(maestro.managementUrl, "GET", "/readyz");
    expect(api.status).toBe(503);
    expect(api.json.reasons[0]).toMatch(/^redis /);
    expect((await http(internal, "GET", "/healthz")).status).toBe(200);

    redis = await startRedis({ port: redis.port });
    await eventually(async () => (await http(internal, "GET", "/readyz")).status === 200, {
      what: "/readyz 200 once Redis is back",
    });
  }, 60_000);
});

describe("graceful shutdown of a spawned `maestro start`", () => {
  /** Starts a server whose operations live in Redis, so their final status can be read after it exits. */
  async function serverWithOperation(drainTimeoutMs: number, sleepSeconds: number) {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const cli = await startMaestroCli(["all"], {
      "storage.operations.kind": "redis",
      "storage.operations.url": redis.url,
      "shutdown.drainTimeoutMs": drainTimeoutMs,
      "workers.healthControllerIntervalMs": 60_000,
    });
    cleanups.push(() => cli.stop());
    const S = "drain";
    expect((await http(cli.managementUrl, "POST", "/schedulers", schedulerBody(S))).status).toBe(200);
    await eventually(
      async () => (await http(cli.managementUrl, "GET", `/schedulers/${S}`)).json.scheduler?.state === "in-sync",
    );
    const client = createRedisClient(redis.url, { name: "drain-test" });
    cleanups.push(async () => client.disconnect());
    const storage = new RedisOperationStorage(client);
    const queue = new RedisOperationQueue(client);
    cleanups.push(() => queue.close());
    const now = new Date();
    const op: Operation = {
      id: randomUUID(),
      schedulerName: S,
      definitionName: "test_operation",
      status: "pending",
      input: { sleepSeconds },
      createdAt: now,
      executionHistory: [{ createdAt: now, event: "Created" }],
    };
    await eventually(async () => client.status === "ready");
    await storage.createOperation(op);
    await queue.enqueue(S, op.id);
    await eventually(async () => (await storage.getOperation(S, op.id))?.status === "in_progress", {
      what: "operation in progress",
    });
    const exited = new Promise<number | null>((resolve) => cli.child.once("exit", (code) => resolve(code)));
    cli.child.kill("SIGTERM");
    return { cli, exited, status: async () => (await storage.getOperation(S, op.id))?.status };
  }

  it("lets the operation in flight finish, reports not ready meanwhile, then exits 0", async () => {
    const { cli, exited, status } = await serverWithOperation(20_000, 2);
    // The signal arrives asynchronously: poll until the process has started its shutdown.
    const draining = await eventually(
      async () => {
        const r = await http(cli.internalUrl, "GET", "/readyz");
        return r.status === 503 ? r : false;
      },
      { what: "/readyz 503 while draining", intervalMs: 20 },
    );
    expect(draining.json.reasons).toContain("shutting down");
    expect(await exited).toBe(0);
    expect(await status()).toBe("finished");
    expect(cli.output()).toContain("shutting down");
  }, 60_000);

  it("stops at once when nothing runs, even with a scheduler and a long drain budget", async () => {
    // The drain budget is far beyond this test's timeout: only a drain that ends on its own lets it pass.
    const cli = await startMaestroCli(["all"], { "shutdown.drainTimeoutMs": 600_000 });
    cleanups.push(() => cli.stop());
    const S = "idle";
    expect((await http(cli.managementUrl, "POST", "/schedulers", schedulerBody(S))).status).toBe(200);
    await eventually(
      async () => (await http(cli.managementUrl, "GET", `/schedulers/${S}`)).json.scheduler?.state === "in-sync",
    );
    const exited = new Promise<number | null>((resolve) => cli.child.once("exit", (code) => resolve(code)));
    cli.child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(cli.output()).not.toContain("drain timeout");
  }, 60_000);

  it("cancels the operation when it outlasts shutdown.drainTimeoutMs", async () => {
    const { exited, status } = await serverWithOperation(1_000, 600);
    expect(await exited).toBe(0);
    expect(await status()).toBe("canceled");
  }, 60_000);
});
