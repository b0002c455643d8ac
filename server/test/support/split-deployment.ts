import { afterAll, beforeAll } from "vitest";
import { freePort, type MaestroCli, startMaestroCli } from "./maestro-cli.js";
import { startPostgres, type TestPostgres } from "./postgres.js";
import { startRedis } from "./redis.js";
import { sharedStoreSettings } from "./shared-store-settings.js";

export interface SplitDeployment {
  /** The APIs in one process, the worker and runtime watcher in another, pointed at the first one's rooms API. */
  startApisAndWorker(): Promise<{ apis: MaestroCli; worker: MaestroCli }>;
  /** Another process on the same stores; stopped with the others. */
  start(modules: string[]): Promise<MaestroCli>;
}

/**
 * Registers the file's hooks for a deployment split across processes: PostgreSQL holds the schedulers, Redis the
 * operations and rooms, and every process started through it is stopped after the file.
 */
export function useSplitDeployment(tokenSecret: string): SplitDeployment {
  let pg: TestPostgres | undefined;
  let redis: { url: string; stop(): Promise<void> } | undefined;
  const processes: MaestroCli[] = [];

  beforeAll(async () => {
    [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await Promise.all([pg?.stop(), redis?.stop()]);
  });

  const start = async (
    modules: string[],
    extra: Record<string, string> = {},
    ports: { rooms?: number } = {},
  ): Promise<MaestroCli> => {
    if (!pg || !redis) throw new Error("the split deployment's stores are not started yet");
    const settings = {
      ...sharedStoreSettings(pg, redis),
      // Every process must agree on room tokens: the worker issues them, the rooms API checks them.
      "roomsApi.tokenSecret": tokenSecret,
      "workers.syncIntervalMs": 300,
      "workers.healthControllerIntervalMs": 500,
      ...extra,
    };
    const cli = await startMaestroCli(modules, settings, ports);
    processes.push(cli);
    return cli;
  };
  return {
    start: (modules) => start(modules),
    async startApisAndWorker() {
      const apis = await start(["management-api", "rooms-api"], {}, { rooms: await freePort() });
      const worker = await start(["worker", "runtime-watcher"], { "roomsApi.publicUrl": apis.roomsUrl });
      return { apis, worker };
    },
  };
}
