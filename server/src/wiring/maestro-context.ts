import { EventEmitter } from "node:events";
import { chmod } from "node:fs/promises";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { MaestroMetrics } from "../adapters/metrics/maestro-metrics.js";
import { countingEvictions, type GameOf, timedOperation } from "../adapters/metrics/timed-operations.js";
import { timedStorage } from "../adapters/metrics/timed-storage.js";
import { isPortFree, RandomPortAllocator } from "../adapters/port-allocator/random-port-allocator.js";
import { refusedByProcessRuntime } from "../adapters/runtime/process/room-env.js";
import { lockDataDir } from "../adapters/security/data-dir-lock.js";
import { HmacRoomTokens, loadOrCreateSecret } from "../adapters/security/hmac-room-tokens.js";
import {
  MemoryCancelSignals,
  MemoryCrashedRoomLogs,
  MemoryInstanceStorage,
  MemoryLeaseStorage,
  MemoryOperationQueue,
  MemoryOperationStorage,
  MemoryRoomStorage,
  MemoryScalePoints,
  MemorySchedulerChanges,
  MemorySchedulerOwnership,
} from "../adapters/storage/memory/index.js";
import {
  createRedisClient,
  highVolumeOperationTtl,
  RedisCancelSignals,
  type RedisClient,
  RedisCrashedRoomLogs,
  RedisInstanceStorage,
  RedisLeaseStorage,
  RedisOperationQueue,
  RedisOperationStorage,
  RedisRoomStorage,
  RedisScalePoints,
  RedisSchedulerChanges,
  RedisSchedulerOwnership,
  waitUntilReady,
} from "../adapters/storage/redis/index.js";
import { openSchedulerStorage } from "../adapters/storage/sql/open-scheduler-storage.js";
import type { MaestroConfig } from "../config/schema.js";
import { Autoscaler } from "../core/autoscaling/autoscaler.js";
import { MetricsTriggersPolicy } from "../core/autoscaling/metrics-triggers/metrics-triggers-policy.js";
import type { SchedulerLimits } from "../core/entities/scheduler-limits.js";
import { builtinOperations } from "../core/operations/all.js";
import { OperationRegistry } from "../core/operations/definition.js";
import type { OperationServices } from "../core/operations/services.js";
import type { CancelSignals } from "../core/ports/cancel-signals.js";
import { type Clock, systemClock } from "../core/ports/clock.js";
import type { CrashedRoomLogs } from "../core/ports/crashed-room-logs.js";
import type { Logger } from "../core/ports/logger.js";
import type { LeaseStorage, OperationQueue, OperationStorage } from "../core/ports/operation-storage.js";
import type { InstanceStorage, RoomStorage } from "../core/ports/room-storage.js";
import type { RoomTokens } from "../core/ports/room-token.js";
import type { Runtime } from "../core/ports/runtime.js";
import type { SchedulerChanges } from "../core/ports/scheduler-changes.js";
import type { SchedulerOwnership } from "../core/ports/scheduler-ownership.js";
import type { SchedulerStorage } from "../core/ports/scheduler-storage.js";
import { EventsService } from "../core/services/events-service.js";
import { OperationManager } from "../core/services/operation-manager.js";
import { RoomManager } from "../core/services/room-manager.js";
import { SchedulerCache } from "../core/services/scheduler-cache.js";
import { SchedulerManager } from "../core/services/scheduler-manager.js";
import { AnnouncingSchedulerStorage, SchedulerReadCache } from "../core/services/scheduler-read-cache.js";
import type { RoomTimeouts } from "../core/services/timeouts.js";
import { loadConfiguredPlugins } from "../plugins/load-plugins.js";
import { PluginRegistry } from "../plugins/plugin-registry.js";
import type { ReadinessProbe } from "./readiness.js";

/** In-process notifications between modules running in the same process (a shortcut; periodic syncs remain). */
export interface LocalEvents {
  on(event: "schedulers-changed", listener: () => void): this;
  on(event: "room-changed", listener: (schedulerName: string) => void): this;
  on(event: "scheduler-version-changed", listener: (schedulerName: string) => void): this;
  off(event: string, listener: (...args: never[]) => void): this;
  emit(event: "schedulers-changed"): boolean;
  emit(event: "room-changed", schedulerName: string): boolean;
  emit(event: "scheduler-version-changed", schedulerName: string): boolean;
}

/**
 * The adapters a process opens, each only when a module it runs needs it (`ModuleContext.parts` in each module): a
 * rooms-API process opens no operation storage and no runtime.
 */
export const contextParts = ["scheduler-storage", "room-storage", "operation-storage", "runtime"] as const;
export type ContextPart = (typeof contextParts)[number];

/**
 * Everything the modules share: adapters chosen by config and the core services built on them. One composition root
 * for every module; each module reads only the members its own context type names, and members resting on a part this
 * process did not open throw when read (a wiring bug, not a runtime condition).
 */
export interface MaestroContext {
  config: MaestroConfig;
  logger: Logger;
  clock: Clock;
  schedulerStorage: SchedulerStorage;
  rooms: RoomStorage;
  instances: InstanceStorage;
  operationStorage: OperationStorage;
  queue: OperationQueue;
  leases: LeaseStorage;
  runtime: Runtime;
  tokens: RoomTokens;
  roomManager: RoomManager;
  operationManager: OperationManager;
  schedulerManager: SchedulerManager;
  registry: OperationRegistry;
  events: LocalEvents;
  /** URL rooms use to reach the rooms API; the rooms API module sets it once listening unless configured. */
  roomsApiUrl: string;
  cancelSignals: CancelSignals;
  ownership: SchedulerOwnership;
  /** This process's name in scheduler ownership claims. */
  replicaId: string;
  /** Forwarder types and autoscaling policies, built-in and from plugins. */
  plugins: PluginRegistry;
  /** Forwards room and player events to the schedulers' forwarders. */
  eventsService: EventsService;
  /** This process's Prometheus registry and the metrics every module reports into. */
  metrics: MaestroMetrics;
  autoscaler: Autoscaler;
  /** What /readyz checks: storage, Redis and the runtime this process opened. */
  readonly readiness: ReadinessProbe[];
  /** The parts opened so far and the services built so far (introspection: what this process holds). */
  built(): { parts: ContextPart[]; services: string[] };
  /** The runtime, opened on first use (the management API's room usage and logs need it only when asked). */
  openRuntime(): Promise<Runtime>;
  /** The runtime if some module of this process opened it. */
  openedRuntime(): Runtime | undefined;
  close(): Promise<void>;
}

/** Opens `parts` (all by default) and builds services on first use. */
export async function createMaestroContext(
  config: MaestroConfig,
  logger: Logger,
  parts: readonly ContextPart[] = contextParts,
): Promise<MaestroContext> {
  const clock = systemClock;
  // Plugins first: a plugin that cannot load stops startup before anything is opened or locked.
  const autoscaler = new Autoscaler();
  const plugins = new PluginRegistry(autoscaler);
  const metricsTriggers = new MetricsTriggersPolicy(config.workers.healthControllerIntervalMs);
  plugins.registerPolicy(metricsTriggers);
  plugins.limits = schedulerLimits(config);
  await loadConfiguredPlugins(config.plugins, plugins, logger);
  const dataDir = resolve(config.dataDir);
  const lock = await lockDataDir(dataDir);
  // Rooms run as another user must not read the token secret, the embedded database or other rooms' logs.
  if (config.runtime.process.runAsUser.trim() !== "") await chmod(dataDir, 0o700);
  const metrics = new MaestroMetrics();
  const redis = new RedisClients(logger, config.storage.redisCommandTimeoutMs);
  const stateKind = config.storage.state.kind;
  const opsKind = config.storage.operations.kind;

  const schedulerPart = lazy(async () => {
    const changes = await openSchedulerChanges(config, redis);
    const opened = timedStorage(
      metrics,
      "scheduler-storage",
      config.storage.schedulers.kind,
      await openSchedulerStorage(
        config.storage.schedulers.kind === "postgres"
          ? { kind: "postgres", url: requireSetting(config.storage.schedulers.url, "storage.schedulers.url") }
          : { kind: "pglite", dataDir: join(dataDir, "pglite") },
      ),
    );
    // Without a channel every writer announces on, a cached read could miss another process's write: read through.
    if (!changes) return { storage: opened, reads: opened };
    const storage = new AnnouncingSchedulerStorage(opened, changes);
    return { storage, reads: new SchedulerReadCache(storage, changes, clock, MANAGEMENT_SCHEDULER_CACHE_MAX_AGE_MS) };
  });
  const roomPart = lazy(async () => {
    const stores = await openRoomStores(config, redis, logger);
    return {
      rooms: timedStorage(metrics, "room-storage", stateKind, stores.rooms),
      instances: timedStorage(metrics, "instance-storage", stateKind, stores.instances),
      scalePoints: timedStorage(metrics, "scale-point-storage", stateKind, stores.scalePoints),
      crashedLogs: timedStorage(metrics, "crashed-room-logs", stateKind, stores.crashedLogs),
    };
  });
  const games = new Map<string, string>();
  const gameOf: GameOf = async (name) => {
    let game = games.get(name);
    if (game === undefined) {
      game = (await schedulerPart.need("scheduler-storage").storage.getScheduler(name)).game;
      games.set(name, game);
    }
    return game;
  };
  const operationPart = lazy(async () => {
    const ops = await openOperationStores(config, clock, redis, logger);
    return {
      operationStorage: countingEvictions(
        metrics,
        gameOf,
        timedStorage(metrics, "operation-storage", opsKind, ops.operationStorage),
      ),
      // `next` blocks until an operation arrives: its duration is idle time, not storage latency.
      queue: timedStorage(metrics, "operation-queue", opsKind, ops.queue, ["next", "close"]),
      leases: timedStorage(metrics, "operation-lease-storage", opsKind, ops.leases),
      ownership: timedStorage(metrics, "scheduler-ownership", opsKind, ops.ownership),
      cancelSignals: ops.cancelSignals,
      close: () => ops.close(),
    };
  });
  // The runtime keeps crashed rooms' log tails in the room stores (Redis across pods), so it opens them too.
  const runtimePart = lazy(async () => openRuntime(config, dataDir, logger, (await roomPart.get()).crashedLogs));
  const opened: Record<ContextPart, Lazy<unknown>> = {
    "scheduler-storage": schedulerPart,
    "room-storage": roomPart,
    "operation-storage": operationPart,
    runtime: runtimePart,
  };
  // In the order services need them: the room stores share the operations' Redis connection when URLs match.
  for (const part of contextParts) if (parts.includes(part)) await opened[part].get();

  const replicaId = config.workers.replicaId || `${hostname()}:${process.pid}`;
  // Checked at the API edge: a management API alone knows the process runtime's refusals without opening it.
  plugins.runtimeRule = (scheduler) => {
    const runtime = runtimePart.value();
    if (runtime) return runtime.refusedFields?.(scheduler) ?? [];
    return config.runtime.kind === "process" ? refusedByProcessRuntime(scheduler) : [];
  };
  metricsTriggers.attach({
    get points() {
      return roomPart.need("room-storage").scalePoints;
    },
    usage: async (scheduler, opts) => {
      const runtime = runtimePart.need("runtime");
      return runtime.roomUsage ? runtime.roomUsage(scheduler, opts) : [];
    },
  });
  const ports = lazySync(() => {
    const runtime = runtimePart.need("runtime");
    return new RandomPortAllocator({
      portsInUse: (opts) => runtime.portsInUse(opts),
      // Pods bind host ports on their nodes, not here: only the process runtime can check a port by binding it.
      ...(runtime.name === "process" ? { isFree: (port: number, protocol: string) => isPortFree(port, protocol) } : {}),
      ...(runtime.name === "kubernetes" ? { containerPort: "declared" as const } : {}),
    });
  });
  const secret = config.roomsApi.tokenSecret || (await loadOrCreateSecret(join(dataDir, "room-token-secret")));
  const tokens = new HmacRoomTokens(secret);
  const timeouts: RoomTimeouts = {
    initializationMs: config.rooms.initializationTimeoutMs,
    pingMs: config.rooms.pingTimeoutMs,
    deletionMs: config.rooms.deletionTimeoutMs,
    allocationTtlMs: config.rooms.allocationTtlMs,
  };
  const events = new EventEmitter() as unknown as LocalEvents;
  (events as unknown as EventEmitter).setMaxListeners(0);
  const built: string[] = [];
  const service = <T>(name: string, make: () => T) =>
    lazySync(() => {
      const value = make();
      built.push(name);
      return value;
    });

  // Worker-side events (terminations) read schedulers through their own cache; a version switch clears it.
  const eventsService = service("events-service", () => {
    const eventSchedulers = new SchedulerCache(
      schedulerPart.need("scheduler-storage").storage,
      clock,
      EVENTS_SCHEDULER_CACHE_TTL_MS,
    );
    events.on("scheduler-version-changed", (name) => eventSchedulers.invalidate(name));
    return new EventsService({
      schedulers: eventSchedulers,
      rooms: roomPart.need("room-storage").rooms,
      instances: roomPart.need("room-storage").instances,
      forwarders: plugins,
      logger: logger.child({ component: "events" }),
      limits: config.forwarding,
      stats: metrics,
    });
  });
  // The runtime and the port allocator are read per call: the rooms API's pings use neither.
  const roomManager = service(
    "room-manager",
    () =>
      new RoomManager({
        get events() {
          return eventsService.get();
        },
        rooms: roomPart.need("room-storage").rooms,
        instances: roomPart.need("room-storage").instances,
        get runtime() {
          return runtimePart.need("runtime");
        },
        get ports() {
          return ports.get();
        },
        tokens,
        clock,
        logger,
        timeouts,
        roomsApiUrl: () => context.roomsApiUrl,
      }),
  );
  const registry = service("operation-registry", () => {
    const r = new OperationRegistry();
    for (const definition of builtinOperations(operationServices))
      r.register(timedOperation(metrics, gameOf, definition));
    return r;
  });
  const operationManager = service(
    "operation-manager",
    () =>
      new OperationManager({
        operations: operationPart.need("operation-storage").operationStorage,
        queue: operationPart.need("operation-storage").queue,
        leases: operationPart.need("operation-storage").leases,
        registry: registry.get(),
        clock,
        // In one process a cancel reaches the running operation directly; across replicas it goes through Redis.
        cancelSignals: opsKind === "redis" ? operationPart.need("operation-storage").cancelSignals : undefined,
        cancelAckTimeoutMs: config.workers.cancelAckTimeoutMs,
      }),
  );
  // Read when an operation runs (in the worker's process), not when the registry is built.
  const operationServices: OperationServices = {
    autoscaler,
    schedulerTypes: plugins,
    onActiveVersionChanged: (name) => events.emit("scheduler-version-changed", name),
    get schedulers() {
      return schedulerPart.need("scheduler-storage").storage;
    },
    get rooms() {
      return roomPart.need("room-storage").rooms;
    },
    get instances() {
      return roomPart.need("room-storage").instances;
    },
    get runtime() {
      return runtimePart.need("runtime");
    },
    get scalePoints() {
      return roomPart.need("room-storage").scalePoints;
    },
    get roomManager() {
      return roomManager.get();
    },
    get operationManager() {
      return operationManager.get();
    },
    get operationStorage() {
      return operationPart.need("operation-storage").operationStorage;
    },
    get queue() {
      return operationPart.need("operation-storage").queue;
    },
    clock,
    logger,
    timeouts,
    limits: {
      addLimit: config.operations.addRoomsLimit,
      addBatchSize: config.operations.addRoomsBatchSize,
      removeLimit: config.operations.removeRoomsLimit,
    },
    validation: {
      timeoutMs: config.rooms.validationTimeoutMs,
      attempts: config.rooms.validationAttempts,
    },
  };
  const schedulerManager = service(
    "scheduler-manager",
    () =>
      new SchedulerManager({
        schedulers: schedulerPart.need("scheduler-storage").storage,
        reads: schedulerPart.need("scheduler-storage").reads,
        rooms: roomPart.need("room-storage").rooms,
        operations: operationManager.get(),
        clock,
        types: plugins,
      }),
  );

  const context: MaestroContext = {
    config,
    logger,
    clock,
    get schedulerStorage() {
      return schedulerPart.need("scheduler-storage").storage;
    },
    get rooms() {
      return roomPart.need("room-storage").rooms;
    },
    get instances() {
      return roomPart.need("room-storage").instances;
    },
    get operationStorage() {
      return operationPart.need("operation-storage").operationStorage;
    },
    get queue() {
      return operationPart.need("operation-storage").queue;
    },
    get leases() {
      return operationPart.need("operation-storage").leases;
    },
    get runtime() {
      return runtimePart.need("runtime");
    },
    tokens,
    get roomManager() {
      return roomManager.get();
    },
    get operationManager() {
      return operationManager.get();
    },
    get schedulerManager() {
      return schedulerManager.get();
    },
    get registry() {
      return registry.get();
    },
    events,
    roomsApiUrl: config.roomsApi.publicUrl || `http://${urlHost(config.roomsApi.host)}:${config.roomsApi.port}`,
    get cancelSignals() {
      return operationPart.need("operation-storage").cancelSignals;
    },
    get ownership() {
      return operationPart.need("operation-storage").ownership;
    },
    replicaId,
    plugins,
    get eventsService() {
      return eventsService.get();
    },
    metrics,
    autoscaler,
    get readiness(): ReadinessProbe[] {
      const schedulerStorage = schedulerPart.value()?.storage;
      const runtime = runtimePart.value();
      return [
        ...(schedulerStorage
          ? [
              {
                name: `scheduler-storage (${config.storage.schedulers.kind})`,
                check: (signal: AbortSignal) => schedulerStorage.listSchedulerNames({ signal }).then(() => undefined),
              },
            ]
          : []),
        ...redis.probes(),
        ...(runtime
          ? [
              {
                name: `runtime (${runtime.name})`,
                // Each runtime knows what it needs: a writable rooms folder, or a reachable API server with synced watches.
                check: (signal: AbortSignal) => runtime.ready({ signal }),
              },
            ]
          : []),
      ];
    },
    built: () => ({
      parts: contextParts.filter((p) => opened[p].value() !== undefined),
      services: [...built],
    }),
    openRuntime: () => runtimePart.get(),
    openedRuntime: () => runtimePart.value(),
    async close() {
      await eventsService.value()?.close();
      const runtime = runtimePart.value();
      const schedulerStorage = schedulerPart.value()?.storage;
      if (runtime && schedulerStorage) {
        await forgetRoomsOnShutdown(roomManager.get(), schedulerStorage, runtime, logger);
      }
      await runtime?.close();
      await operationPart.value()?.close();
      redis.close();
      await schedulerStorage?.close();
      await lock.release();
    },
  };
  return context;
}

interface Lazy<T> {
  /** Opens it on first call. */
  get(): Promise<T>;
  /** The value once opened. */
  value(): T | undefined;
  /** The value; throws when nothing opened it (a module read a part it does not declare). */
  need(part: ContextPart): T;
}

function lazy<T>(open: () => Promise<T>): Lazy<T> {
  let opening: Promise<T> | undefined;
  let value: T | undefined;
  return {
    get: () => {
      opening ??= open().then((v) => {
        value = v;
        return v;
      });
      return opening;
    },
    value: () => value,
    need(part) {
      if (value === undefined) throw new Error(`${part} is not opened in this process: no module it runs declares it`);
      return value;
    },
  };
}

function lazySync<T>(make: () => T): { get(): T; value(): T | undefined } {
  let value: T | undefined;
  return {
    get: () => {
      value ??= make();
      return value;
    },
    value: () => value,
  };
}

/** Where rooms run: child processes under dataDir, or pods through the Kubernetes API. */
async function openRuntime(
  config: MaestroConfig,
  dataDir: string,
  logger: Logger,
  crashedLogs: CrashedRoomLogs,
): Promise<Runtime> {
  // Imported on use: a process that runs no room (an API alone) never loads the Kubernetes client.
  if (config.runtime.kind === "kubernetes") {
    const { KubernetesRuntime } = await import("../adapters/runtime/kubernetes/kubernetes-runtime.js");
    const k = config.runtime.kubernetes;
    return new KubernetesRuntime({
      kubeconfig: k.kubeconfig,
      inCluster: k.inCluster,
      qps: k.qps,
      burst: k.burst,
      requestTimeoutMs: k.requestTimeoutMs,
      disruptionSafetyPercentage: k.disruptionSafetyPercentage,
      crashedLogs,
      logger: logger.child({ component: "kubernetes-runtime" }),
    });
  }
  const { ProcessRuntime } = await import("../adapters/runtime/process/process-runtime.js");
  const runtime = new ProcessRuntime({
    dataDir: join(dataDir, "rooms"),
    host: config.runtime.host,
    logger: logger.child({ component: "process-runtime" }),
    runAsUser: config.runtime.process.runAsUser,
  });
  await runtime.start();
  return runtime;
}

/**
 * A clean shutdown stops the process runtime's rooms: their records go first, so no matchmaker is handed a room that is
 * about to stop (they would otherwise stay allocatable until their ping timed out). Bounded: a storage outage must
 * not hold the shutdown.
 */
async function forgetRoomsOnShutdown(
  roomManager: RoomManager,
  schedulers: SchedulerStorage,
  runtime: Runtime,
  logger: Logger,
): Promise<void> {
  if (runtime.identity === undefined) return;
  const signal = AbortSignal.timeout(5_000);
  try {
    for (const name of await schedulers.listSchedulerNames({ signal })) {
      await roomManager.forgetOwnRooms(name, { signal });
    }
  } catch (err) {
    logger.warn({ err }, "could not remove the records of this server's rooms before stopping them");
  }
}

/** Operations, their queue, leases, cancel signals and ownership claims: in this process, or shared through Redis. */
async function openOperationStores(config: MaestroConfig, clock: Clock, redis: RedisClients, logger: Logger) {
  if (config.storage.operations.kind === "redis") {
    const client = await redis.get(requireSetting(config.storage.operations.url, "storage.operations.url"));
    const queue = new RedisOperationQueue(client);
    return {
      operationStorage: new RedisOperationStorage(client, { ttlSecondsFor: highVolumeOperationTtl() }),
      queue,
      leases: new RedisLeaseStorage(client),
      cancelSignals: new RedisCancelSignals(client, logger),
      ownership: new RedisSchedulerOwnership(client),
      async close() {
        await queue.close();
      },
    };
  }
  const leases = new MemoryLeaseStorage(clock);
  return {
    operationStorage: new MemoryOperationStorage({ ttlSecondsFor: highVolumeOperationTtl(), clock, leases }),
    queue: new MemoryOperationQueue(),
    leases,
    cancelSignals: new MemoryCancelSignals(),
    ownership: new MemorySchedulerOwnership(clock),
    async close() {},
  };
}

/**
 * Where scheduler writes are announced: on a Redis every process of the deployment shares (room state's, else the
 * operations'), in this process when the schedulers live in its own embedded database, and nowhere — no read cache —
 * when they live in a shared PostgreSQL that other processes may write without a Redis to tell this one.
 */
async function openSchedulerChanges(config: MaestroConfig, redis: RedisClients): Promise<SchedulerChanges | undefined> {
  const { state, operations, schedulers } = config.storage;
  const url =
    state.kind === "redis"
      ? requireSetting(state.url || operations.url, "storage.state.url")
      : operations.kind === "redis"
        ? requireSetting(operations.url, "storage.operations.url")
        : undefined;
  if (url) return new RedisSchedulerChanges(await redis.get(url));
  return schedulers.kind === "postgres" ? undefined : new MemorySchedulerChanges();
}

/** Rooms and instances: in this process, or in Redis so that APIs and workers can run in separate processes. */
async function openRoomStores(config: MaestroConfig, redis: RedisClients, logger: Logger) {
  if (config.storage.state.kind === "redis") {
    const url = config.storage.state.url || config.storage.operations.url;
    const client = await redis.get(requireSetting(url, "storage.state.url"));
    return {
      rooms: new RedisRoomStorage(client, logger),
      instances: new RedisInstanceStorage(client),
      scalePoints: new RedisScalePoints(client),
      crashedLogs: new RedisCrashedRoomLogs(client),
    };
  }
  const instances = new MemoryInstanceStorage();
  return {
    rooms: new MemoryRoomStorage((s, id) => instances.statusOf(s, id)),
    instances,
    scalePoints: new MemoryScalePoints(),
    crashedLogs: new MemoryCrashedRoomLogs(),
  };
}

/** One Redis client per URL, connected before use and closed with the context. */
class RedisClients {
  private readonly clients = new Map<string, RedisClient>();

  constructor(
    private readonly logger: Logger,
    private readonly commandTimeoutMs: number,
  ) {}

  async get(url: string): Promise<RedisClient> {
    const existing = this.clients.get(url);
    if (existing) return existing;
    const client = createRedisClient(url, {
      name: "maestro",
      logger: this.logger,
      commandTimeoutMs: this.commandTimeoutMs,
    });
    try {
      await waitUntilReady(client, { timeoutMs: 10_000 });
    } catch (err) {
      client.disconnect();
      throw err;
    }
    this.clients.set(url, client);
    return client;
  }

  /** A PING per Redis this process uses; fails at once while disconnected (no offline queue). */
  probes(): ReadinessProbe[] {
    return [...this.clients].map(([url, client]) => ({
      name: `redis ${redactUrl(url)}`,
      check: async () => {
        if (client.status !== "ready") throw new Error(`connection ${client.status}`);
        await client.ping();
      },
    }));
  }

  close(): void {
    for (const c of this.clients.values()) c.disconnect();
    this.clients.clear();
  }
}

/**
 * Bound on a management read's cached scheduler when a writer could not announce its write (Redis unreachable to it
 * alone, or killed between its SQL commit and the announcement); announced writes invalidate at once.
 */
const MANAGEMENT_SCHEDULER_CACHE_MAX_AGE_MS = 5_000;

/** How stale a scheduler's forwarders may be for worker-side events in another process than the worker. */
const EVENTS_SCHEDULER_CACHE_TTL_MS = 10_000;

function requireSetting(value: string, path: string): string {
  if (!value) throw new Error(`${path} is required`);
  return value;
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//***@");
}

function urlHost(host: string): string {
  if (host === "0.0.0.0" || host === "::") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}

function schedulerLimits(config: MaestroConfig): SchedulerLimits {
  return {
    containersPerSpec: config.limits.containersPerSpec,
    envVarsPerContainer: config.limits.envVarsPerContainer,
    commandBytes: config.limits.commandBytes,
    roomsPerScheduler: config.limits.roomsPerScheduler,
    commandRequired: config.runtime.kind === "process",
    kubernetesFieldsRequired: config.runtime.kind === "kubernetes",
  };
}
