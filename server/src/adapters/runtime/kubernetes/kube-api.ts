import { type AgentOptions, Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent, type AgentOptions as HttpsAgentOptions } from "node:https";
import {
  ApiException,
  AppsV1Api,
  type ConfigurationOptions,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  Observable,
  PolicyV1Api,
  type RequestContext,
  type ResponseContext,
  VersionApi,
} from "@kubernetes/client-node";
import { abortableSleep } from "../../../core/delay.js";
import { type ErrorCode, MaestroError } from "../../../core/errors.js";
import { TokenBucket } from "./token-bucket.js";

export interface KubeApiOptions {
  /** Path of a kubeconfig file; empty = $KUBECONFIG or ~/.kube/config. Ignored when inCluster. */
  kubeconfig?: string;
  /** Use the pod's service account (KUBERNETES_SERVICE_HOST and the mounted token). */
  inCluster?: boolean;
  /** Sustained requests per second to the API server (client-go's QPS). */
  qps?: number;
  /** Requests allowed above qps in a burst. */
  burst?: number;
  /** One request's time limit; a request that times out is retried. */
  requestTimeoutMs?: number;
  /** Attempts of one call for retryable failures (429, 5xx, timeouts, connection errors). */
  attempts?: number;
  /** For tests: a KubeConfig built elsewhere. */
  kubeConfig?: KubeConfig;
}

/** Statuses worth another try: throttling, server trouble and gateway hiccups (Maestro #672). */
const retryableStatuses = new Set([429, 500, 502, 503, 504]);

/** Loads the kubeconfig the way the options say. */
export function loadKubeConfig(opts: Pick<KubeApiOptions, "kubeconfig" | "inCluster" | "kubeConfig">): KubeConfig {
  if (opts.kubeConfig) return opts.kubeConfig;
  const kc = new KubeConfig();
  try {
    if (opts.inCluster) kc.loadFromCluster();
    else if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    throw new MaestroError("invalid_argument", `cannot load the Kubernetes configuration: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (!kc.getCurrentCluster()) {
    throw new MaestroError("invalid_argument", "the Kubernetes configuration names no cluster");
  }
  return kc;
}

/** The API server's own explanation (a Status object in the body), else the exception's message. */
export function apiMessage(err: ApiException<unknown>): string {
  const body = err.body;
  const text = typeof body === "string" ? body : Buffer.isBuffer(body) ? body.toString("utf8") : undefined;
  if (text) {
    try {
      const status = JSON.parse(text) as { message?: string };
      if (status.message) return status.message;
    } catch {
      return text.slice(0, 500);
    }
  }
  if (body && typeof body === "object" && "message" in body && typeof body.message === "string") return body.message;
  return err.message.split("\n")[0] ?? err.message;
}

const statusCodes: Record<number, ErrorCode> = {
  400: "invalid_argument",
  401: "unauthenticated",
  403: "failed_precondition",
  404: "not_found",
  409: "already_exists",
  410: "conflict",
  422: "invalid_argument",
  429: "resource_exhausted",
};

/** Turns an API failure into the one error type; `what` names the object for not-found messages. */
export function toMaestroError(err: unknown, what: string): MaestroError {
  if (err instanceof MaestroError) return err;
  if (err instanceof ApiException) {
    const code = statusCodes[err.code] ?? (err.code >= 500 ? "unavailable" : "internal");
    const message = apiMessage(err);
    if (code === "not_found") return new MaestroError("not_found", `${what} not found`, { cause: err });
    if (code === "invalid_argument") {
      return MaestroError.invalid([{ field: what, message: `refused by the Kubernetes API: ${message}` }]);
    }
    return new MaestroError(code, `Kubernetes API (${err.code}) on ${what}: ${message}`, { cause: err });
  }
  if (isAbort(err)) return new MaestroError("canceled", `Kubernetes API call on ${what} canceled`, { cause: err });
  return new MaestroError("unavailable", `Kubernetes API unreachable on ${what}: ${(err as Error)?.message}`, {
    cause: err,
  });
}

function isAbort(err: unknown): boolean {
  return (err as { name?: string })?.name === "AbortError";
}

function retryable(err: unknown, callerSignal: AbortSignal | undefined): boolean {
  if (callerSignal?.aborted) return false;
  if (err instanceof ApiException) return retryableStatuses.has(err.code);
  // Our own per-request timeout, or a connection failure (node-fetch's FetchError, socket errors): worth repeating.
  // Anything else (a broken kubeconfig, a bug) would fail the same way again.
  const e = err as { name?: string; code?: string };
  return (
    e?.name === "AbortError" || e?.name === "FetchError" || (typeof e?.code === "string" && e.code.startsWith("E"))
  );
}

/** Per-call client options: the request's abort signal (caller's, or the timeout's). */
export type CallConfig = ConfigurationOptions;

function withSignal(signal: AbortSignal, agents: KeepAliveAgents): CallConfig {
  return {
    middleware: [
      {
        pre: (ctx: RequestContext) => {
          ctx.setSignal(signal);
          const agent = agents.reuse(ctx.getAgent());
          if (agent) ctx.setAgent(agent);
          return new Observable(Promise.resolve(ctx));
        },
        post: (ctx: ResponseContext) => new Observable(Promise.resolve(ctx)),
      },
    ],
    middlewareMergeStrategy: "append",
  };
}

/**
 * client-node 1.4 builds a new https.Agent (without keep-alive) for every request, so each API call would pay a TCP
 * connection and a TLS handshake with client certificates. This swaps in one keep-alive agent per set of TLS options.
 * Proxy agents and anything else unusual are left alone.
 */
class KeepAliveAgents {
  private readonly agents = new Map<string, HttpAgent>();

  reuse(fresh: HttpAgent | undefined): HttpAgent | undefined {
    if (!fresh || (fresh.constructor !== HttpsAgent && fresh.constructor !== HttpAgent)) return undefined;
    const options = (fresh as HttpAgent & { options: AgentOptions & HttpsAgentOptions }).options;
    const key = [fresh.constructor.name, options.ca, options.cert, options.key, options.pfx, options.rejectUnauthorized]
      .map((v) => (v === undefined ? "" : String(v)))
      .join("\u0000");
    let agent = this.agents.get(key);
    if (!agent) {
      const Agent = fresh.constructor as typeof HttpsAgent;
      agent = new Agent({ ...options, keepAlive: true, maxSockets: 64 });
      this.agents.set(key, agent);
    }
    return agent;
  }

  destroy(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}

/**
 * The Kubernetes API clients Maestro uses, behind one `call` that applies the client-side rate limit (QPS/burst, as
 * client-go does), a per-request timeout, and retries with exponential backoff for throttling and server errors.
 */
export class KubeApi {
  readonly kc: KubeConfig;
  readonly core: CoreV1Api;
  readonly policy: PolicyV1Api;
  readonly apps: AppsV1Api;
  readonly version: VersionApi;
  readonly custom: CustomObjectsApi;
  private readonly bucket: TokenBucket;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly agents = new KeepAliveAgents();

  constructor(opts: KubeApiOptions = {}) {
    this.kc = loadKubeConfig(opts);
    this.core = this.kc.makeApiClient(CoreV1Api);
    this.policy = this.kc.makeApiClient(PolicyV1Api);
    this.apps = this.kc.makeApiClient(AppsV1Api);
    this.version = this.kc.makeApiClient(VersionApi);
    this.custom = this.kc.makeApiClient(CustomObjectsApi);
    this.bucket = new TokenBucket(opts.qps ?? 100, opts.burst ?? 200);
    this.timeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.attempts = Math.max(1, opts.attempts ?? 6);
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.agents.destroy();
  }

  /** Runs one API request (`fn` gets the per-call config to pass on), retrying what is retryable. */
  async call<T>(
    what: string,
    fn: (config: CallConfig) => Promise<T>,
    signal?: AbortSignal,
    { attempts = this.attempts }: { attempts?: number } = {},
  ): Promise<T> {
    let delayMs = 100;
    for (let attempt = 1; ; attempt++) {
      await this.bucket.take(signal).catch((err: unknown) => {
        throw toMaestroError(err, what);
      });
      const timeout = AbortSignal.timeout(this.timeoutMs);
      const requestSignal = signal ? AbortSignal.any([signal, timeout]) : timeout;
      try {
        return await fn(withSignal(requestSignal, this.agents));
      } catch (err) {
        if (attempt >= attempts || !retryable(err, signal)) throw toMaestroError(err, what);
        const retryAfter = err instanceof ApiException ? Number(err.headers?.["retry-after"]) : Number.NaN;
        const wait = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : delayMs;
        await abortableSleep(Math.min(wait * (0.8 + Math.random() * 0.4), 10_000), signal).catch((e: unknown) => {
          throw toMaestroError(e, what);
        });
        delayMs = Math.min(delayMs * 2, 5_000);
      }
    }
  }
}
