import type { MaestroConfig } from "./config/schema.js";
import { MaestroError } from "./core/errors.js";
import type { Logger } from "./core/ports/logger.js";
import { startInternalApi } from "./modules/internal-api.js";
import { type MaestroModule, type ModuleName, moduleNames, moduleParts } from "./modules/module.js";
import { type ContextPart, createMaestroContext, type MaestroContext } from "./wiring/maestro-context.js";

export interface RunningMaestro {
  context: MaestroContext;
  modules: ModuleName[];
  urls: { managementApi?: string; roomsApi?: string; internalApi: string };
  stop(): Promise<void>;
}

/** Modules that share in-process state must run together while that state is in memory. */
const sharedStateModules: readonly ModuleName[] = ["management-api", "rooms-api", "worker", "runtime-watcher"];

export function resolveModules(requested: readonly string[]): ModuleName[] {
  if (requested.length === 0 || requested.includes("all")) return [...moduleNames];
  const unknown = requested.filter((m) => !moduleNames.includes(m as ModuleName));
  if (unknown.length > 0) {
    throw new MaestroError(
      "invalid_argument",
      `unknown module ${unknown.join(", ")}: choose from ${moduleNames.join(", ")} or all`,
    );
  }
  return [...new Set(requested as ModuleName[])];
}

/**
 * Modules that share state kept in this process must run together: everything while rooms or operations are in
 * memory, and the worker with the runtime watcher while rooms are this process's children (process runtime).
 */
function checkModulePlacement(config: MaestroConfig, names: readonly ModuleName[]): void {
  const together = (group: readonly ModuleName[], why: string) => {
    const missing = group.filter((m) => !names.includes(m));
    if (missing.length > 0 && missing.length < group.length) {
      throw new MaestroError(
        "invalid_argument",
        `${why}: run ${group.join(", ")} in the same process (missing: ${missing.join(", ")})`,
      );
    }
  };
  if (config.storage.state.kind === "memory" || config.storage.operations.kind === "memory") {
    together(
      sharedStateModules,
      `with storage.state.kind=${config.storage.state.kind} and storage.operations.kind=${config.storage.operations.kind}, ` +
        "state lives in this process (use Redis for both to split modules across processes)",
    );
  }
  if (config.runtime.kind === "process") {
    together(["worker", "runtime-watcher"], "with runtime.kind=process, rooms are children of the worker's process");
  }
}

export async function startMaestro(
  config: MaestroConfig,
  requested: readonly string[],
  logger: Logger,
): Promise<RunningMaestro> {
  const names = resolveModules(requested);
  checkModulePlacement(config, names);
  // Only what the requested modules need is opened, and only their code is loaded (the management API brings the
  // dashboard and OpenAPI, the runtimes the Kubernetes client): a rooms API alone holds neither.
  const parts = [...new Set(names.flatMap((n) => moduleParts[n]))] as ContextPart[];
  const context = await createMaestroContext(config, logger, parts);
  const started: MaestroModule[] = [];
  let managementUrl: () => string | undefined = () => undefined;
  let roomsUrl: () => string | undefined = () => undefined;
  let renderReporter: (() => Promise<string>) | undefined;
  const factories: Record<ModuleName, () => Promise<MaestroModule>> = {
    "management-api": async () => {
      const mod = (await import("./modules/management-api.js")).managementApiModule(context);
      managementUrl = () => mod.url;
      return mod;
    },
    "rooms-api": async () => {
      const mod = (await import("./modules/rooms-api.js")).roomsApiModule(context);
      roomsUrl = () => mod.url;
      return mod;
    },
    worker: async () => (await import("./modules/worker.js")).workerModule(context),
    "runtime-watcher": async () => (await import("./modules/runtime-watcher.js")).runtimeWatcherModule(context),
    "metrics-reporter": async () => {
      const mod = (await import("./modules/metrics-reporter.js")).metricsReporterModule(context);
      renderReporter = mod.render;
      return mod;
    },
  };
  let internal: Awaited<ReturnType<typeof startInternalApi>> | undefined;
  let stopping = false;
  const stop = async () => {
    stopping = true;
    // One budget for the whole drain: the operation in flight finishes while the APIs still serve (its rooms may
    // need to ping), then the APIs finish their requests in flight.
    const deadline = Date.now() + config.shutdown.drainTimeoutMs;
    await Promise.all(
      started.map((m) => m.drain?.(deadline).catch((err) => logger.error({ err, module: m.name }, "drain failed"))),
    );
    // Reverse order: APIs stop taking requests first, the runtime (rooms) goes last with the context.
    for (const m of started.reverse()) {
      await m.stop(deadline).catch((err) => logger.error({ err, module: m.name }, "module stop failed"));
    }
    started.length = 0;
    await internal?.close();
    await context.close();
  };
  try {
    // The watcher starts before the worker so that rooms created by the first operations are observed, and the rooms
    // API before it so that those rooms are given the address it really got (port 0 is known only once listening)
    // and can ping while the worker drains at stop.
    const order: ModuleName[] = ["runtime-watcher", "rooms-api", "worker", "metrics-reporter", "management-api"];
    for (const name of order.filter((n) => names.includes(n))) {
      const mod = await factories[name]();
      await mod.start();
      started.push(mod);
    }
    internal = await startInternalApi(context, {
      // Every process exposes its own HTTP, storage and operation metrics; the per-scheduler gauges come with the
      // metrics-reporter module.
      render: renderReporter ?? (() => context.metrics.render()),
      stopping: () => stopping,
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    context,
    modules: names,
    urls: { managementApi: managementUrl(), roomsApi: roomsUrl(), internalApi: internal.url },
    stop,
  };
}
