/**
 * Every setting, its type, default and rule. The environment name of a setting is MAESTRO_ + its path upper-cased with
 * dots turned into underscores (Maestro's viper convention): `managementApi.port` → MAESTRO_MANAGEMENTAPI_PORT.
 */
export type Setting =
  | { type: "int"; default: number; min?: number; max?: number; help: string }
  | { type: "number"; default: number; min?: number; max?: number; help: string }
  | { type: "string"; default: string; help: string }
  | { type: "bool"; default: boolean; help: string }
  | { type: "enum"; default: string; values: readonly string[]; help: string };

const port = (d: number, help: string) => ({ type: "int", default: d, min: 0, max: 65535, help }) as const;
const ms = (d: number, help: string) => ({ type: "int", default: d, min: 1, help: `${help} (milliseconds)` }) as const;

export const schema = {
  dataDir: { type: "string", default: ".maestro", help: "directory for embedded state (PGlite, room logs, secrets)" },
  log: {
    level: {
      type: "enum",
      default: "info",
      values: ["trace", "debug", "info", "warn", "error", "fatal"],
      help: "log level",
    },
    format: {
      type: "enum",
      default: "auto",
      values: ["auto", "pretty", "json"],
      help: "log format: pretty (one readable line per entry), json (one JSON object per line), auto (pretty on a TTY)",
    },
  },
  shutdown: {
    drainTimeoutMs: ms(
      25_000,
      "on SIGTERM, how long the operation in flight and HTTP requests in flight may take before they are cut",
    ),
  },
  memory: {
    heapGrowingPercent: {
      type: "int",
      default: 50,
      min: 0,
      max: 400,
      help:
        "how far the V8 old generation may grow past the live data before a full collection, in percent (0: V8's own " +
        "adaptive factor, up to 300); under ping load V8's factor let a rooms API hold 60 MiB of dead objects",
    },
  },
  managementApi: {
    host: { type: "string", default: "127.0.0.1", help: "management API bind address" },
    port: port(8080, "management API port (REST, Connect, gRPC-Web and gRPC on one port)"),
    readTokens: {
      type: "string",
      default: "",
      help: "comma-separated bearer tokens allowed to read; with no token at all the API only binds to loopback",
    },
    writeTokens: {
      type: "string",
      default: "",
      help: "comma-separated bearer tokens allowed to read and change (create, patch, delete, cancel…)",
    },
    ignoreUnknownFields: {
      type: "bool",
      default: false,
      help: "REST: drop JSON keys the API does not know (Maestro's behaviour) instead of answering 400 naming them",
    },
  },
  roomsApi: {
    host: { type: "string", default: "127.0.0.1", help: "rooms API bind address" },
    port: port(8070, "rooms API port"),
    publicUrl: {
      type: "string",
      default: "",
      help: "URL rooms use to reach the rooms API (default http://<host>:<port>)",
    },
    roomTokens: {
      type: "bool",
      default: true,
      help: "require each room's MAESTRO_ROOM_TOKEN on the rooms API (false = Maestro-compatible unauthenticated rooms)",
    },
    tokenSecret: {
      type: "string",
      default: "",
      help: "HMAC secret for room tokens (default: generated under dataDir)",
    },
    matchmakerTokens: {
      type: "string",
      default: "",
      help: "comma-separated bearer tokens of matchmakers (allocate, room addresses); with none, those RPCs are open only when the rooms API listens on loopback or room tokens are off",
    },
    ignoreUnknownFields: {
      type: "bool",
      default: false,
      help: "REST: drop JSON keys the API does not know (Maestro's behaviour) instead of answering 400 naming them",
    },
  },
  internalApi: {
    host: {
      type: "string",
      default: "127.0.0.1",
      help: "health endpoints bind address for processes with no API module",
    },
    port: port(8081, "health endpoints port for processes with no API module"),
  },
  storage: {
    schedulers: {
      kind: { type: "enum", default: "pglite", values: ["pglite", "postgres"], help: "scheduler storage" },
      url: { type: "string", default: "", help: "Postgres URL when kind is postgres" },
    },
    state: {
      kind: {
        type: "enum",
        default: "memory",
        values: ["memory", "redis"],
        help: "room and instance storage (redis: the APIs can run in other processes than the worker)",
      },
      url: { type: "string", default: "", help: "Redis URL when kind is redis (default: storage.operations.url)" },
    },
    operations: {
      kind: {
        type: "enum",
        default: "memory",
        values: ["memory", "redis"],
        help: "operations, their queue, leases, cancel signals and scheduler ownership (redis: several replicas)",
      },
      url: {
        type: "string",
        default: "",
        help: "Redis URL when kind is redis (redis://127.0.0.1:6379/0, or redis+cluster://host:port,host:port for a Redis Cluster)",
      },
    },
    redisCommandTimeoutMs: ms(
      2_000,
      "a Redis reply slower than this fails the request as unavailable (a frozen Redis must not hang callers)",
    ),
  },
  runtime: {
    kind: { type: "enum", default: "process", values: ["process", "kubernetes"], help: "where rooms run" },
    host: { type: "string", default: "127.0.0.1", help: "address rooms are reachable at (process runtime)" },
    process: {
      runAsUser: {
        type: "string",
        default: "",
        help: "user (name or uid) the process runtime runs rooms as, so a room cannot read the server's secrets nor other rooms' environment; empty = the server's own user (needs root to differ)",
      },
    },
    kubernetes: {
      kubeconfig: { type: "string", default: "", help: "kubeconfig file (default $KUBECONFIG or ~/.kube/config)" },
      inCluster: { type: "bool", default: false, help: "use the pod's service account instead of a kubeconfig" },
      qps: { type: "number", default: 100, min: 1, help: "sustained Kubernetes API requests per second" },
      burst: { type: "int", default: 200, min: 1, help: "Kubernetes API requests allowed above qps in a burst" },
      requestTimeoutMs: ms(30_000, "one Kubernetes API request's time limit before it is retried"),
      disruptionSafetyPercentage: {
        type: "number",
        default: 0.05,
        min: 0.05,
        max: 0.99,
        help: "share of a scheduler's rooms a voluntary disruption (node drain) may take at once",
      },
      disruptionIntervalMs: ms(60_000, "how often each scheduler's pod disruption budget is set to its room count"),
    },
  },
  workers: {
    syncIntervalMs: ms(10_000, "how often workers pick up new and deleted schedulers"),
    healthControllerIntervalMs: ms(10_000, "how often each scheduler's health controller runs"),
    operationLeaseTtlMs: ms(
      5_000,
      "operation lease time to live: an operation whose replica stops renewing its lease is aborted there and recovered elsewhere; must be below workers.ownershipTtlMs",
    ),
    operationLeaseRenewIntervalMs: {
      type: "int",
      default: 0,
      min: 0,
      help: "how often a running operation's lease is renewed (milliseconds; 0 = a third of workers.operationLeaseTtlMs); must be below the TTL",
    },
    leaseRecoveryIntervalMs: {
      type: "int",
      default: 0,
      min: 0,
      help: "how often an owned scheduler's operations with an expired lease are recovered (milliseconds; 0 = workers.operationLeaseTtlMs)",
    },
    cancelAckTimeoutMs: ms(
      5_000,
      "how long a cancel of an operation running on another replica waits for that replica to acknowledge it before failing with unavailable",
    ),
    storageCleanupIntervalMs: ms(3 * 3_600_000, "average interval of each scheduler's storage_clean_up operation"),
    ownershipTtlMs: ms(10_000, "a replica that stops renewing its claim on a scheduler loses it after this long"),
    ownershipRenewIntervalMs: {
      type: "int",
      default: 0,
      min: 0,
      help: "how often a replica renews its scheduler claims (milliseconds; 0 = a third of workers.ownershipTtlMs); must be below the TTL",
    },
    replicaId: { type: "string", default: "", help: "name of this replica in ownership claims (default host:pid)" },
  },
  rooms: {
    initializationTimeoutMs: ms(120_000, "a room not ready this long after creation is replaced"),
    pingTimeoutMs: ms(240_000, "a room that has not pinged for this long is replaced"),
    deletionTimeoutMs: ms(120_000, "a terminating room is forgotten after this long"),
    allocationTtlMs: ms(300_000, "how long an allocation holds a room"),
    validationTimeoutMs: ms(120_000, "how long a major version's validation room has to become ready"),
    validationAttempts: {
      type: "int",
      default: 3,
      min: 1,
      help: "validation rooms tried before a major version fails",
    },
  },
  plugins: {
    type: "string",
    default: "",
    help: "comma-separated npm packages (or paths) of plugins adding forwarder types and autoscaling policies; @maestro/forwarder-grpc (type gRPC) is loaded when installed",
  },
  forwarding: {
    concurrency: { type: "int", default: 16, min: 1, help: "events in flight per forwarder" },
    queueSize: {
      type: "int",
      default: 256,
      min: 0,
      help: "events waiting per forwarder; beyond it events are shed (counted) so a slow matchmaker cannot slow pings",
    },
  },
  limits: {
    containersPerSpec: { type: "int", default: 16, min: 1, help: "most containers one scheduler spec may declare" },
    envVarsPerContainer: {
      type: "int",
      default: 256,
      min: 0,
      help: "most environment variables one container may set",
    },
    commandBytes: {
      type: "int",
      default: 64 * 1024,
      min: 1,
      help: "most bytes of one container's command and arguments together (UTF-8)",
    },
    roomsPerScheduler: {
      type: "int",
      default: 10_000,
      min: 1,
      help: "most rooms one scheduler may ask for (roomsReplicas, autoscaling min and max, add-rooms)",
    },
    restBodyBytes: { type: "int", default: 4 * 1024 * 1024, min: 1024, help: "largest REST request body (bytes)" },
    connectBodyBytes: {
      type: "int",
      default: 4 * 1024 * 1024,
      min: 1024,
      help: "largest Connect request body (bytes); refused before it is read and before the token is checked",
    },
    grpcWebBodyBytes: {
      type: "int",
      default: 4 * 1024 * 1024,
      min: 1024,
      help: "largest gRPC-Web request body (bytes)",
    },
    grpcBodyBytes: { type: "int", default: 4 * 1024 * 1024, min: 1024, help: "largest gRPC request message (bytes)" },
    headersTimeoutMs: ms(
      10_000,
      "a connection that has not sent a complete request head and the body it declares this long after it opened (or after its previous response) is closed",
    ),
    idleTimeoutMs: ms(60_000, "a connection with no request in flight and no traffic for this long is closed"),
  },
  operations: {
    addRoomsLimit: { type: "int", default: 1000, min: 1, help: "most rooms one add_rooms creates" },
    addRoomsBatchSize: { type: "int", default: 40, min: 1, help: "rooms created concurrently" },
    removeRoomsLimit: { type: "int", default: 50, min: 1, help: "most rooms one remove_rooms deletes by amount" },
  },
} as const satisfies SchemaTree;

export interface SchemaTree {
  [key: string]: Setting | SchemaTree;
}

type ValueOf<S> = S extends { type: "int" | "number" }
  ? number
  : S extends { type: "bool" }
    ? boolean
    : S extends { type: "enum"; values: readonly (infer V)[] }
      ? V
      : S extends { type: "string" }
        ? string
        : S extends SchemaTree
          ? { [K in keyof S]: ValueOf<S[K]> }
          : never;

export type MaestroConfig = ValueOf<typeof schema>;

export function isSetting(node: Setting | SchemaTree): node is Setting {
  return typeof (node as Setting).type === "string" && "default" in node;
}
