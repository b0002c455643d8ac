import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { loadConfig } from "../../src/config/load-config.js";
import { silentLogger } from "../../src/core/ports/logger.js";
import { type RunningMaestro, startMaestro } from "../../src/server.js";
import { startPostgres, type TestPostgres } from "./postgres.js";
import { startRedis, type TestRedis } from "./redis.js";
import { sharedStoreSettings } from "./shared-store-settings.js";

/**
 * Registers the file's hooks for several Maestros in this test process sharing one PostgreSQL (schedulers) and one
 * Redis (operations, rooms), each with its own modules, data directory and free ports, as separate processes would
 * be; `start` gives in-process access to each one's context. Everything started is stopped after the file.
 */
export function useSharedStoresMaestros(): {
  start(modules: string[], overrides?: Record<string, string | number>): Promise<RunningMaestro>;
} {
  let pg: TestPostgres | undefined;
  let redis: TestRedis | undefined;
  const running: { maestro: RunningMaestro; dataDir: string }[] = [];

  beforeAll(async () => {
    [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
  });
  afterAll(async () => {
    for (const r of running.reverse()) {
      await r.maestro.stop();
      await rm(r.dataDir, { recursive: true, force: true });
    }
    await Promise.all([pg?.stop(), redis?.stop()]);
  });

  return {
    async start(modules, overrides = {}) {
      if (!pg || !redis) throw new Error("the shared stores are not started yet");
      const dataDir = await mkdtemp(join(tmpdir(), "maestro-shared-"));
      const config = loadConfig({
        env: {},
        overrides: {
          dataDir,
          "managementApi.port": 0,
          "roomsApi.port": 0,
          "internalApi.port": 0,
          ...sharedStoreSettings(pg, redis),
          // Every process must agree on room tokens: the worker issues them, the rooms API checks them.
          "roomsApi.tokenSecret": "shared-stores-test-secret",
          "workers.syncIntervalMs": 300,
          "workers.healthControllerIntervalMs": 500,
          "log.level": "warn",
          "shutdown.drainTimeoutMs": 1_000,
          ...overrides,
        },
      });
      const maestro = await startMaestro(config, modules, silentLogger);
      running.push({ maestro, dataDir });
      return maestro;
    },
  };
}
