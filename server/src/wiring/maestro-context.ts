import { EventEmitter } from "node:events";
import { chmod } from "node:fs/promises";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { MaestroMetrics } from "../adapters/metrics/maestro-metrics.js";
import { countingEvictions, type GameOf, timedOperation } from "../adapters/metrics/timed-operations.js";
import { timedStorage } from "../adapters/metrics/timed-storage.js";
import { isPortFree, RandomPortAllocator } from "../adapters/port-allocator/random-port-allocator.js";
import { KubernetesRuntime } from "../adapters/runtime/kubernetes/kubernetes-runtime.js";
import { ProcessRuntime } from "../adapters/runtime/process/process-runtime.js";
import { lockDataDir } from "../adapters/security/data-dir-lock.js";
import { HmacRoomTokens, loadOrCreateSecret } from "../adapters/security/hmac-room-tokens.js";
import {
  MemoryCancelSignals,
  MemoryInstanceStorage,
  MemoryLeaseStorage,
  MemoryOperationQueue,
  MemoryOperationStorage,
  MemoryRoomStorage,
  MemoryScalePoints,
  MemorySchedulerOwnership,
} from "../adapters/storage/memory/index.js";
import {
  createRedisClient,
  highVolumeOperationTtl,
  RedisCancelSignals,
  type RedisClient,
  RedisInstanceStorage,
  RedisLeaseStorage,
  RedisOperationQueue,
  RedisOperationStorage,
  RedisRoomStorage,
  RedisScalePoints,
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
import type { Logger } from "../core/ports/logger.js";
import type { LeaseStorage, OperationQueue, OperationStorage } from "../core/ports/operation-storage.js";
import type { InstanceStorage, RoomStorage } from "../core/ports/room-storage.js";
import type { RoomTokens } from "../core/ports/room-token.js";
import type { Runtime } from "../core/ports/runtime.js";
import type { SchedulerOwnership } from "../core/ports/scheduler-ownership.js";
import type { SchedulerStorage } from "../core/ports/scheduler-storage.js";
import { EventsService } from "../core/services/events-service.js";
import { OperationManager } from "../core/services/operation-manager.js";
import { RoomManager } from "../core/services/room-manager.js";
import { SchedulerCache } from "../core/services/scheduler-cache.js";
import { SchedulerManager } from "../core/services/scheduler-manager.js";
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

/** Everything the modules share: adapters chosen by config and the core services built on them. */
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
  /** What /readyz checks: storage, Redis and the runtime this process uses. */
  readiness: ReadinessProbe[];
  close(): Promise<void>;
}

export async function createMaestroContext(config: MaestroConfig, logger: Logger): Promise<MaestroContext> {
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
  const schedulerStorage = timedStorage(
    metrics,
    "scheduler-storage",
    config.storage.schedulers.kind,
    await openSchedulerStorage(
      config.storage.schedulers.kind === "postgres"
        ? { kind: "postgres", url: requireSetting(config.storage.schedulers.url, "storage.schedulers.url") }
        : { kind: "pglite", dataDir: join(dataDir, "pglite") },
    ),
  );
  const redis = new RedisClients(logger, config.storage.redisCommandTimeoutMs);
  const stores = await openRoomStores(config, redis, logger);
  const stateKind = config.storage.state.kind;
  const rooms = timedStorage(metrics, "room-storage", stateKind, stores.rooms);
  const instances = timedStorage(metrics, "instance-storage", stateKind, stores.instances);
  const ops = await openOperationStores(config, clock, redis, logger);
  const opsKind = config.storage.operations.kind;
  const { cancelSignals } = ops;
  const games = new Map<string, string>();
  const gameOf: GameOf = async (name) => {
    let game = games.get(name);
    if (game === undefined) {
      game = (await schedulerStorage.getScheduler(name)).game;
      games.set(name, game);
    }
    return game;
  };
  const operationStorage = countingEvictions(
    metrics,
    gameOf,
    timedStorage(metrics, "operation-storage", opsKind, ops.operationStorage),
  );
  // `next` blocks until an operation arrives: its duration is idle time, not storage latency.
  const queue = timedStorage(metrics, "operation-queue", opsKind, ops.queue, ["next", "close"]);
  const leases = timedStorage(metrics, "operation-lease-storage", opsKind, ops.leases);
  const ownership = timedStorage(metrics, "scheduler-ownership", opsKind, ops.ownership);
  const replicaId = config.workers.replicaId || `${hostname()}:${process.pid}`;

  const runtime = await openRuntime(config, dataDir, logger);
  plugins.runtimeRule = runtime.refusedFields && ((scheduler) => runtime.refusedFields?.(scheduler) ?? []);
  const scalePoints = timedStorage(metrics, "scale-point-storage", stateKind, stores.scalePoints);
  metricsTriggers.attach({
    points: scalePoints,
    usage: async (scheduler, opts) => (runtime.roomUsage ? runtime.roomUsage(scheduler, opts) : []),
  });
  const ports = new RandomPortAllocator({
    portsInUse: (opts) => runtime.portsInUse(opts),
    // Pods bind host ports on their nodes, not here: only the process runtime can check a port by binding it.
    ...(runtime.name === "process" ? { isFree: (port: number, protocol: string) => isPortFree(port, protocol) } : {}),
    ...(runtime.name === "kubernetes" ? { containerPort: "declared" as const } : {}),
  });
  const secret = config.roomsApi.tokenSecret || (await loadOrCreateSecret(join(dataDir, "room-token-secret")));
  const tokens = new HmacRoomTokens(secret);
  const roomsApiUrl = config.roomsApi.publicUrl || `http://${urlHost(config.roomsApi.host)}:${config.roomsApi.port}`;
  const timeouts: RoomTimeouts = {
    initializationMs: config.rooms.initializationTimeoutMs,
    pingMs: config.rooms.pingTimeoutMs,
    deletionMs: config.rooms.deletionTimeoutMs,
    allocationTtlMs: config.rooms.allocationTtlMs,
  };
  // Worker-side events (terminations) read schedulers through their own cache; a version switch clears it.
  const eventSchedulers = new SchedulerCache(schedulerStorage, clock, EVENTS_SCHEDULER_CACHE_TTL_MS);
  const eventsService = new EventsService({
    schedulers: eventSchedulers,
    rooms,
    instances,
    forwarders: plugins,
    logger: logger.child({ component: "events" }),
    limits: config.forwarding,
    stats: metrics,
  });
  const roomManager = new RoomManager({
    events: eventsService,
    rooms,
    instances,
    runtime,
    ports,
    tokens,
    clock,
    logger,
    timeouts,
    roomsApiUrl: () => context.roomsApiUrl,
  });
  const registry = new OperationRegistry();
  const operationManager = new OperationManager({
    operations: operationStorage,
    queue,
    leases,
    registry,
    clock,
    // In one process a cancel reaches the running operation directly; across replicas it goes through Redis.
    cancelSignals: config.storage.operations.kind === "redis" ? cancelSignals : undefined,
    cancelAckTimeoutMs: config.workers.cancelAckTimeoutMs,
  });
  const services: OperationServices = {
    autoscaler,
    schedulerTypes: plugins,
    onActiveVersionChanged: (name) => events.emit("scheduler-version-changed", name),
    schedulers: schedulerStorage,
    rooms,
    instances,
    runtime,
    scalePoints,
    roomManager,
    operationManager,
    operationStorage,
    queue,
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
  for (const definition of builtinOperations(services)) registry.register(timedOperation(metrics, gameOf, definition));
  const schedulerManager = new SchedulerManager({
    schedulers: schedulerStorage,
    rooms,
    operations: operationManager,
    clock,
    types: plugins,
  });
  const events = new EventEmitter() as unknown as LocalEvents;
  (events as unknown as EventEmitter).setMaxListeners(0);
  events.on("scheduler-version-changed", (name) => eventSchedulers.invalidate(name));

  const context: MaestroContext = {
    config,
    logger,
    clock,
    schedulerStorage,
    rooms,
    instances,
    operationStorage,
    queue,
    leases,
    runtime,
    tokens,
    roomManager,
    operationManager,
    schedulerManager,
    registry,
    events,
    roomsApiUrl,
    cancelSignals,
    ownership,
    replicaId,
    plugins,
    eventsService,
    metrics,
    autoscaler,
    readiness: [
      {
        name: `scheduler-storage (${config.storage.schedulers.kind})`,
        check: (signal) => schedulerStorage.listSchedulerNames({ signal }).then(() => undefined),
      },
      ...redis.probes(),
      {
        name: `runtime (${runtime.name})`,
        // Each runtime knows what it needs: a writable rooms folder, or a reachable API server with synced watches.
        check: (signal) => runtime.ready({ signal }),
      },
    ],
    async close() {
      await eventsService.close();
      await forgetRoomsOnShutdown(roomManager, schedulerStorage, runtime, logger);
      await runtime.close();
      await ops.close();
      redis.close();
      await schedulerStorage.close();
      await lock.release();
    },
  };
  return context;
}

/** Where rooms run: child processes under dataDir, or pods through the Kubernetes API. */
async function openRuntime(config: MaestroConfig, dataDir: string, logger: Logger): Promise<Runtime> {
  if (config.runtime.kind === "kubernetes") {
    const k = config.runtime.kubernetes;
    return new KubernetesRuntime({
      kubeconfig: k.kubeconfig,
      inCluster: k.inCluster,
      qps: k.qps,
      burst: k.burst,
      requestTimeoutMs: k.requestTimeoutMs,
      disruptionSafetyPercentage: k.disruptionSafetyPercentage,
      logger: logger.child({ component: "kubernetes-runtime" }),
    });
  }
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

/** Rooms and instances: in this process, or in Redis so that APIs and workers can run in separate processes. */
async function openRoomStores(config: MaestroConfig, redis: RedisClients, logger: Logger) {
  if (config.storage.state.kind === "redis") {
    const url = config.storage.state.url || config.storage.operations.url;
    const client = await redis.get(requireSetting(url, "storage.state.url"));
    return {
      rooms: new RedisRoomStorage(client, logger),
      instances: new RedisInstanceStorage(client),
      scalePoints: new RedisScalePoints(client),
    };
  }
  const instances = new MemoryInstanceStorage();
  return {
    rooms: new MemoryRoomStorage((s, id) => instances.statusOf(s, id)),
    instances,
    scalePoints: new MemoryScalePoints(),
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
