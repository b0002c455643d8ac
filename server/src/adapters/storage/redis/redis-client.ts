import { Cluster, type ClusterNode, Redis, type RedisOptions } from "ioredis";
import { MaestroError } from "../../../core/errors.js";
import type { CallOptions } from "../../../core/ports/call-options.js";
import { type Logger, silentLogger } from "../../../core/ports/logger.js";
import { canceled, throwIfAborted, toMaestroError } from "./redis-errors.js";

/**
 * A single Redis or a Redis Cluster. A cluster client (ioredis' Cluster) is typed as a Redis: it takes the same
 * commands, scripts and pipelines, and every key of one scheduler shares a hash tag, so each script and pipeline stays
 * on one node. `isClusterClient` tells them apart where connections are made.
 */
export type RedisClient = Redis;

export interface RedisClientOptions {
  /** Shown by CLIENT LIST, e.g. "maestro-worker". */
  name: string;
  /** Connection problems are logged here (ioredis would otherwise print unhandled error events). */
  logger?: Logger | undefined;
  /** A reply slower than this fails the call as unavailable. Default 10 s. */
  commandTimeoutMs?: number | undefined;
  /** Extra ioredis options, for tests and tuning. */
  overrides?: Partial<RedisOptions> | undefined;
}

/**
 * A client that fails fast while Redis is away instead of queueing: no offline queue, a command in flight when the
 * connection drops is retried on at most one reconnect, and reconnects back off up to 2 s forever, so callers get
 * `unavailable` quickly and the process recovers on its own when Redis returns.
 *
 * `redis://` and `rediss://` URLs name one Redis; `redis+cluster://[user:password@]host:port,host:port/` (or
 * `rediss+cluster://` for TLS) names a Redis Cluster by some of its nodes, from which the client learns the rest.
 */
export function createRedisClient(url: string, opts: RedisClientOptions): RedisClient {
  const logger = opts.logger ?? silentLogger;
  const base: RedisOptions = {
    connectionName: opts.name,
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 5_000,
    commandTimeout: opts.commandTimeoutMs ?? 10_000,
    retryStrategy: backoff,
    // Commands issued in the same tick (concurrent pings, allocations) leave in one write instead of one syscall
    // each: the socket write was the largest cost of a ping under load. Order per connection is unchanged.
    enableAutoPipelining: true,
    ...opts.overrides,
  };
  let client: Redis;
  const cluster = parseClusterUrl(url);
  if (cluster !== undefined) {
    const { retryStrategy: _perNode, enableOfflineQueue, enableAutoPipelining, lazyConnect, ...perNode } = base;
    client = new Cluster(cluster.nodes, {
      enableOfflineQueue,
      enableAutoPipelining,
      lazyConnect,
      clusterRetryStrategy: backoff,
      slotsRefreshTimeout: 2_000,
      redisOptions: {
        ...perNode,
        ...(cluster.username === undefined ? {} : { username: cluster.username }),
        ...(cluster.password === undefined ? {} : { password: cluster.password }),
        ...(cluster.tls ? { tls: {} } : {}),
      },
    }) as unknown as Redis;
  } else {
    try {
      client = new Redis(url, base);
    } catch (e) {
      throw new MaestroError("invalid_argument", `invalid redis url: ${e instanceof Error ? e.message : String(e)}`, {
        cause: e,
      });
    }
  }
  attachErrorLogger(client, logger, opts.name);
  return client;
}

function backoff(times: number): number {
  return Math.min(100 * 2 ** Math.min(times - 1, 5), 2_000);
}

export function isClusterClient(client: Redis): boolean {
  return (client as unknown) instanceof Cluster;
}

export interface ClusterUrl {
  nodes: ClusterNode[];
  tls: boolean;
  username?: string | undefined;
  password?: string | undefined;
}

/**
 * The nodes and credentials of a `redis+cluster://` or `rediss+cluster://` URL; undefined for any other scheme. Throws
 * invalid_argument naming what is wrong.
 */
export function parseClusterUrl(url: string): ClusterUrl | undefined {
  const match = /^(rediss?)\+cluster:\/\/(.*)$/i.exec(url.trim());
  if (!match) return undefined;
  const invalid = (why: string) =>
    new MaestroError("invalid_argument", `invalid redis cluster url ${redactAuth(url)}: ${why}`);
  let rest = (match[2] ?? "").replace(/\/+$/, "");
  let username: string | undefined;
  let password: string | undefined;
  const at = rest.lastIndexOf("@");
  if (at >= 0) {
    const auth = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = auth.indexOf(":");
    const user = decodeURIComponent(colon >= 0 ? auth.slice(0, colon) : auth);
    if (user !== "") username = user;
    if (colon >= 0) password = decodeURIComponent(auth.slice(colon + 1));
  }
  if (rest === "") throw invalid("no node given (redis+cluster://host:port,host:port)");
  const nodes = rest.split(",").map((node) => {
    const parsed = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/.exec(node.trim());
    const port = Number(parsed?.[2]);
    if (!parsed || port < 1 || port > 65_535) throw invalid(`node "${node}" is not host:port`);
    return { host: (parsed[1] as string).replace(/^\[|\]$/g, ""), port };
  });
  return { nodes, tls: match[1]?.toLowerCase() === "rediss", username, password };
}

function redactAuth(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//***@");
}

/** Logs connection errors once per outage instead of once per reconnect attempt. */
export function attachErrorLogger(client: Redis, logger: Logger, name: string): void {
  let reported = false;
  client.on("error", (err: unknown) => {
    if (reported) return;
    reported = true;
    logger.warn({ err, redis: name }, "redis connection error");
  });
  client.on("ready", () => {
    if (reported) logger.info({ redis: name }, "redis connection restored");
    reported = false;
  });
}

/**
 * Resolves once the client is ready for commands. With `timeoutMs` it rejects as unavailable when Redis does not
 * answer in time (the client keeps reconnecting in the background).
 */
export function waitUntilReady(client: Redis, opts?: CallOptions & { timeoutMs?: number }): Promise<void> {
  throwIfAborted(opts);
  if (client.status === "ready") return Promise.resolve();
  if (client.status === "end") {
    return Promise.reject(new MaestroError("unavailable", "redis client is closed"));
  }
  return new Promise<void>((resolve, reject) => {
    const signal = opts?.signal;
    const cleanup = () => {
      client.off("ready", onReady);
      client.off("end", onEnd);
      signal?.removeEventListener("abort", onAbort);
      if (timer !== undefined) clearTimeout(timer);
    };
    const onReady = () => {
      cleanup();
      resolve();
    };
    const onEnd = () => {
      cleanup();
      reject(new MaestroError("unavailable", "redis client is closed"));
    };
    const onAbort = () => {
      cleanup();
      reject(canceled(signal as AbortSignal));
    };
    const timer =
      opts?.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            cleanup();
            reject(new MaestroError("unavailable", `redis not ready within ${opts.timeoutMs} ms`));
          }, opts.timeoutMs);
    client.on("ready", onReady);
    client.on("end", onEnd);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * A second connection for blocking commands or pub/sub, which would stall every other caller of a shared client. By
 * default it does not reconnect: when its connection drops the call in flight fails and the owner discards it. With
 * `reconnect` it reconnects like its parent and resubscribes its channels.
 */
export async function dedicatedConnection(
  client: Redis,
  suffix: string,
  opts?: CallOptions & { reconnect?: boolean },
): Promise<Redis> {
  throwIfAborted(opts);
  if (isClusterClient(client)) return dedicatedClusterConnection(client as unknown as Cluster, suffix, opts);
  const name = client.options.connectionName;
  const conn = client.duplicate({
    lazyConnect: true,
    connectionName: name === undefined ? suffix : `${name}-${suffix}`,
    ...(opts?.reconnect === true ? {} : { retryStrategy: () => null }),
    // A blocking command resent after a reconnect could take a second id while the first waits in the auxiliary list.
    autoResendUnfulfilledCommands: false,
    // Blocking commands wait longer than a normal reply; the owner bounds each wait itself.
    commandTimeout: undefined,
    // Nothing to batch on a connection that blocks or subscribes.
    enableAutoPipelining: false,
  });
  return connectDedicated(conn, opts);
}

async function dedicatedClusterConnection(
  cluster: Cluster,
  suffix: string,
  opts?: CallOptions & { reconnect?: boolean },
): Promise<Redis> {
  const nodeOptions = cluster.options.redisOptions ?? {};
  const name = nodeOptions.connectionName;
  const conn = cluster.duplicate(undefined, {
    lazyConnect: true,
    enableAutoPipelining: false,
    // SSUBSCRIBE goes to the node serving the channel's slot, where SPUBLISH delivers.
    shardedSubscribers: true,
    ...(opts?.reconnect === true ? {} : { clusterRetryStrategy: () => null }),
    redisOptions: {
      ...nodeOptions,
      connectionName: name === undefined ? suffix : `${name}-${suffix}`,
      autoResendUnfulfilledCommands: false,
      commandTimeout: undefined,
    },
  });
  return connectDedicated(conn, opts) as unknown as Promise<Redis>;
}

/** How long a connection that reconnects may take to come up, as the process's main clients wait for theirs. */
const RECONNECTING_START_MS = 10_000;

/**
 * Connects a dedicated connection; one that failed or whose caller gave up meanwhile is closed, never leaked. One that
 * reconnects rides out failed first attempts for a while (its client retries them), as the process's main clients do:
 * a worker whose cancel subscriber gave up at the first refused connect failed its start (seen on a fresh pod).
 */
async function connectDedicated<C extends Redis | Cluster>(
  conn: C,
  opts?: CallOptions & { reconnect?: boolean },
): Promise<C> {
  conn.on("error", () => {
    // The failure reaches the caller through the rejected command.
  });
  try {
    await conn.connect().catch((e: unknown) => {
      if (opts?.reconnect !== true) throw e;
      return waitUntilReady(conn as unknown as Redis, { timeoutMs: RECONNECTING_START_MS, signal: opts.signal });
    });
  } catch (e) {
    conn.disconnect();
    if (opts?.signal?.aborted) throw canceled(opts.signal);
    throw toMaestroError(e);
  }
  if (opts?.signal?.aborted) {
    conn.disconnect();
    throw canceled(opts.signal);
  }
  return conn;
}
