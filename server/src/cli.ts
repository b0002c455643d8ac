#!/usr/bin/env node
import { join, resolve } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { openSchedulerStorage } from "./adapters/storage/sql/open-scheduler-storage.js";
import { describeSettings, loadConfig } from "./config/load-config.js";
import type { MaestroConfig } from "./config/schema.js";
import { MaestroError } from "./core/errors.js";
import { createLogger } from "./logging.js";
import { moduleNames } from "./modules/module.js";
import { startMaestro } from "./server.js";
import { armFailpointsFromEnv } from "./wiring/failpoints.js";
import { applyHeapTuning } from "./wiring/heap-tuning.js";

interface CommonOptions {
  config?: string;
  set?: Record<string, string>;
  logLevel?: string;
  logFormat?: string;
  dataDir?: string;
}

function collectSet(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf("=");
  if (eq <= 0)
    throw new InvalidArgumentError(`expected key=value (e.g. workers.healthControllerIntervalMs=5000), got "${value}"`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError("must be a port number 0..65535");
  return n;
}

function configFrom(opts: CommonOptions & Record<string, unknown>, extra: Record<string, unknown> = {}): MaestroConfig {
  const overrides: Record<string, unknown> = { ...(opts.set ?? {}), ...extra };
  if (opts.logLevel) overrides["log.level"] = opts.logLevel;
  if (opts.logFormat) overrides["log.format"] = opts.logFormat;
  if (opts.dataDir) overrides.dataDir = opts.dataDir;
  return loadConfig({ file: opts.config ?? process.env.MAESTRO_CONFIG, overrides });
}

const program = new Command()
  .name("maestro")
  .description("Maestro: dedicated game server orchestrator (schedulers, rooms, operations)")
  .showHelpAfterError("(run with --help for usage)");

const withCommon = (cmd: Command) =>
  cmd
    .option("-c, --config <file>", "YAML config file (also MAESTRO_CONFIG)")
    .option("--set <key=value>", "override any setting, repeatable (see `maestro settings`)", collectSet)
    .option("--log-level <level>", "trace|debug|info|warn|error")
    .option("--log-format <format>", "pretty|json|auto (default auto: pretty on a terminal, JSON otherwise)")
    .option("--data-dir <dir>", "directory for embedded state (default .maestro)");

withCommon(
  program
    .command("start")
    .description(`start modules in this process: ${moduleNames.join(", ")} or all (default all)`)
    .argument("[modules...]", "modules to run", [])
    .option("--management-port <port>", "management API port (default 8080)", port)
    .option("--rooms-port <port>", "rooms API port (default 8070)", port)
    .option("--internal-port <port>", "health/metrics port (default 8081)", port)
    .option("--insecure-rooms-api", "accept rooms without MAESTRO_ROOM_TOKEN (Maestro-compatible game rooms)"),
).action(async (modules: string[], opts: CommonOptions & Record<string, unknown>) => {
  const extra: Record<string, unknown> = {};
  if (opts.managementPort !== undefined) extra["managementApi.port"] = opts.managementPort;
  if (opts.roomsPort !== undefined) extra["roomsApi.port"] = opts.roomsPort;
  if (opts.internalPort !== undefined) extra["internalApi.port"] = opts.internalPort;
  if (opts.insecureRoomsApi) extra["roomsApi.roomTokens"] = false;
  const config = configFrom(opts, extra);
  const logger = createLogger(config.log.level, config.log.format);
  armFailpointsFromEnv(process.env.MAESTRO_FAILPOINTS);
  applyHeapTuning(config.memory);
  const running = await startMaestro(config, modules, logger);
  logger.info({ modules: running.modules, ...running.urls, dataDir: resolve(config.dataDir) }, "maestro started");
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(
      { signal, drainTimeoutMs: config.shutdown.drainTimeoutMs },
      "shutting down: draining the operation and requests in flight, then stopping workers and rooms",
    );
    // Stopping rooms and closing storage come after the drain; a stuck close must not keep the process forever.
    setTimeout(() => {
      logger.error({}, "shutdown did not complete in time; exiting");
      process.exit(1);
    }, config.shutdown.drainTimeoutMs + 30_000).unref();
    running.stop().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
});

withCommon(program.command("migrate").description("apply pending scheduler storage migrations and exit")).action(
  async (opts: CommonOptions & Record<string, unknown>) => {
    const config = configFrom(opts);
    const storage = await openSchedulerStorage(
      config.storage.schedulers.kind === "postgres"
        ? { kind: "postgres", url: config.storage.schedulers.url }
        : { kind: "pglite", dataDir: join(resolve(config.dataDir), "pglite") },
    );
    await storage.close();
    process.stdout.write(`migrations applied (${config.storage.schedulers.kind})\n`);
  },
);

program
  .command("settings")
  .description("list every setting with its environment variable and default")
  .action(() => {
    process.stdout.write(`${describeSettings().join("\n")}\n`);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  const message =
    err instanceof MaestroError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`maestro: ${message}\n`);
  process.exit(err instanceof MaestroError && err.code === "invalid_argument" ? 2 : 1);
});
