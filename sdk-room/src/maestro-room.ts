import { configFromEnv } from "./env.js";
import { isMaestroRoomError, MaestroRoomError, type MaestroRoomErrorCode } from "./errors.js";
import { KeepAlive } from "./keep-alive.js";
import {
  type CallOptions,
  type ErrorContext,
  type ErrorHandler,
  type FromEnvOptions,
  type MaestroRoomConfig,
  type Metadata,
  ROOM_STATUSES,
  type RoomStatus,
  type StatusOptions,
  type TerminationContext,
  type TerminationHook,
} from "./options.js";
import { type PingBody, RoomsApiClient } from "./rooms-api-client.js";
import { SignalHandlers } from "./signal-handlers.js";

const DEFAULTS = {
  pingIntervalMs: 10_000,
  retryInitialDelayMs: 1_000,
  requestTimeoutMs: 5_000,
  drainTimeoutMs: 25_000,
  handleSignals: ["SIGTERM", "SIGINT"] as readonly NodeJS.Signals[],
};

/** `active` until termination starts; `closed` once `close()` ran or termination reported `terminated`. */
export type RoomLifecycle = "active" | "terminating" | "closed";

const defaultOnError: ErrorHandler = (error, context) => {
  if (context.during === "keep-alive") {
    if (context.consecutiveFailures === 1) {
      console.warn(`[maestro-sdk-room] keep-alive ping failed, retrying with backoff: ${error.message}`);
    }
    return;
  }
  console.warn(`[maestro-sdk-room] termination step failed: ${error.message}`);
};

/**
 * A game room's connection to Maestro's rooms API: status pings with a keep-alive loop, room and player events,
 * and graceful termination on SIGTERM/SIGINT.
 */
export class MaestroRoom {
  readonly roomsApiUrl: string;
  readonly schedulerName: string;
  readonly roomId: string;
  /** Host ports Maestro assigned to this room, keyed by lower-cased port name (`MAESTRO_PORT_GAME` → `game`). */
  readonly ports: Readonly<Record<string, number>>;
  /** Resolves once the room is closed: after `close()` or after termination reported `terminated`. Never rejects. */
  readonly closed: Promise<void>;

  readonly #client: RoomsApiClient;
  readonly #keepAlive: KeepAlive;
  readonly #onError: ErrorHandler;
  readonly #drainTimeoutMs: number;
  readonly #exitOnTermination: boolean;
  readonly #hooks = new Set<TerminationHook>();
  readonly #signalHandlers: SignalHandlers | undefined;
  readonly #resolveClosed: () => void;
  #lifecycle: RoomLifecycle = "active";
  #current: PingBody | undefined;
  // Pings go out one at a time, in call order, so the last status the server sees is the last one asked for.
  #pingQueue: Promise<unknown> = Promise.resolve();
  #termination: Promise<void> | undefined;
  #drain: AbortController | undefined;

  /** Reads MAESTRO_ROOMS_API_URL, MAESTRO_SCHEDULER_NAME, MAESTRO_ROOM_ID, MAESTRO_ROOM_TOKEN and MAESTRO_PORT_*. */
  static fromEnv(options: FromEnvOptions = {}): MaestroRoom {
    const { env = process.env, ...rest } = options;
    return new MaestroRoom({ ...rest, ...configFromEnv(env) });
  }

  constructor(config: MaestroRoomConfig) {
    this.roomsApiUrl = validUrl(config.roomsApiUrl);
    this.schedulerName = nonEmpty("schedulerName", config.schedulerName, "invalid_config");
    this.roomId = nonEmpty("roomId", config.roomId, "invalid_config");
    this.ports = Object.freeze({ ...(config.ports ?? {}) });
    const pingIntervalMs = positive("pingIntervalMs", config.pingIntervalMs ?? DEFAULTS.pingIntervalMs);
    const retryInitialDelayMs = positive(
      "retryInitialDelayMs",
      config.retryInitialDelayMs ?? DEFAULTS.retryInitialDelayMs,
    );
    const requestTimeoutMs = positive("requestTimeoutMs", config.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs);
    this.#drainTimeoutMs = nonNegative("drainTimeoutMs", config.drainTimeoutMs ?? DEFAULTS.drainTimeoutMs);
    this.#exitOnTermination = config.exitOnTermination ?? true;
    this.#onError = config.onError ?? defaultOnError;
    if (config.token !== undefined && config.token.trim() === "") {
      throw new MaestroRoomError("invalid_config", "token must not be empty when given");
    }
    if (config.onTermination) this.#hooks.add(config.onTermination);

    this.#client = new RoomsApiClient({
      roomsApiUrl: this.roomsApiUrl,
      schedulerName: this.schedulerName,
      roomId: this.roomId,
      token: config.token,
      requestTimeoutMs,
    });
    this.#keepAlive = new KeepAlive({
      intervalMs: pingIntervalMs,
      retryInitialDelayMs,
      send: (signal) => this.#enqueuePing(() => this.#current, signal),
      onFailure: (error, consecutiveFailures) => this.#report(error, { during: "keep-alive", consecutiveFailures }),
    });
    let resolveClosed!: () => void;
    this.closed = new Promise<void>((resolve) => {
      resolveClosed = resolve;
    });
    this.#resolveClosed = resolveClosed;

    const signals = config.handleSignals ?? DEFAULTS.handleSignals;
    if (signals !== false && signals.length > 0) {
      this.#signalHandlers = new SignalHandlers(signals, (signal) => this.#onSignal(signal));
    }
  }

  /** Where the room is in its life. */
  get lifecycle(): RoomLifecycle {
    return this.#lifecycle;
  }

  /** The last status asked for (sent or being retried), or undefined before the first status call. */
  get status(): RoomStatus | undefined {
    return this.#current?.status;
  }

  /** Ready for a match. With `maxMatches > 1`, pass `runningMatches` to report a partially filled room. */
  ready(options: StatusOptions = {}): Promise<void> {
    return this.ping("ready", options);
  }

  /** Running matches; `runningMatches` defaults to 1. */
  occupied(options: StatusOptions = {}): Promise<void> {
    return this.ping("occupied", options);
  }

  /**
   * Reports how many matches run in this room: `occupied` with `runningMatches: n` when n > 0, `ready` when n is 0.
   * Maestro composes the room status from it: with `maxMatches > 1` a room below its maximum is `active` (still
   * offered to matchmakers), at the maximum `occupied`; with one match per room any match makes it `occupied`.
   */
  setMatches(n: number, options: Omit<StatusOptions, "runningMatches"> = {}): Promise<void> {
    if (!Number.isInteger(n) || n < 0) {
      return Promise.reject(
        new MaestroRoomError("invalid_argument", `matches must be a non-negative integer, got ${n}`),
      );
    }
    return this.ping(n > 0 ? "occupied" : "ready", { ...options, runningMatches: n });
  }

  /** Running matches last reported (0 before the first status call). */
  get runningMatches(): number {
    return this.#current?.runningMatches ?? 0;
  }

  /**
   * Reports a status and makes it the one the keep-alive loop re-sends. If the request fails the promise rejects,
   * and the loop still retries the status in the background.
   * Once termination has started, `ready` and `occupied` are ignored so a draining room is never offered again.
   */
  async ping(status: RoomStatus, options: StatusOptions = {}): Promise<void> {
    this.#assertOpen();
    if (!ROOM_STATUSES.includes(status)) {
      throw new MaestroRoomError(
        "invalid_argument",
        `status must be one of ${ROOM_STATUSES.join(", ")}, got ${status}`,
      );
    }
    if (this.#lifecycle === "terminating" && (status === "ready" || status === "occupied")) return;
    const runningMatches = options.runningMatches ?? defaultRunningMatches(status, this.#current);
    if (!Number.isInteger(runningMatches) || runningMatches < 0) {
      throw new MaestroRoomError("invalid_argument", `runningMatches must be a non-negative integer`);
    }
    const body: PingBody = { status, runningMatches, metadata: options.metadata ?? this.#current?.metadata ?? {} };
    this.#current = body;
    try {
      await this.#enqueuePing(() => body, options.signal);
    } catch (e) {
      this.#keepAlive.retrySoon();
      throw e;
    }
  }

  /** Sends a room event (forwarded to matchmakers as `roomEvent` with this name). */
  async event(name: string, metadata: Metadata = {}, options: CallOptions = {}): Promise<void> {
    this.#assertOpen();
    nonEmpty("event name", name);
    await this.#client.roomEvent(name, metadata, options.signal);
  }

  async playerJoined(playerId: string, metadata: Metadata = {}, options: CallOptions = {}): Promise<void> {
    this.#assertOpen();
    nonEmpty("playerId", playerId);
    await this.#client.playerEvent("playerJoin", { ...metadata, playerId }, options.signal);
  }

  async playerLeft(playerId: string, metadata: Metadata = {}, options: CallOptions = {}): Promise<void> {
    this.#assertOpen();
    nonEmpty("playerId", playerId);
    await this.#client.playerEvent("playerLeft", { ...metadata, playerId }, options.signal);
  }

  /** Adds a hook run when termination starts; returns a function that removes it. */
  onTermination(hook: TerminationHook): () => void {
    this.#hooks.add(hook);
    return () => {
      this.#hooks.delete(hook);
    };
  }

  /**
   * Runs the termination sequence without waiting for a signal (e.g. the game decided to shut down): reports
   * `terminating`, runs the hooks until they finish or the drain deadline, reports `terminated`, closes.
   * Does not exit the process. Aborting `signal` ends the drain early.
   */
  terminate(options: CallOptions = {}): Promise<void> {
    return this.#terminate("terminate", options.signal);
  }

  /**
   * Stops the keep-alive loop and removes signal handlers without reporting anything. Idempotent.
   * During termination it cuts the drain short and waits for `terminated` to be reported.
   */
  async close(): Promise<void> {
    if (this.#termination) {
      this.#drain?.abort(new MaestroRoomError("closed", "room closed during drain"));
      await this.#termination;
      return;
    }
    await this.#shutdown();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #onSignal(signal: NodeJS.Signals): void {
    void this.#terminate(signal).then(async () => {
      if (!this.#exitOnTermination) return;
      // One macrotask so code awaiting `room.closed` runs before the process goes away.
      await new Promise((resolve) => setImmediate(resolve));
      process.exit(0);
    });
  }

  #terminate(reason: TerminationContext["reason"], external?: AbortSignal): Promise<void> {
    if (this.#termination) return this.#termination;
    if (this.#lifecycle === "closed") return Promise.resolve();
    this.#lifecycle = "terminating";
    this.#signalHandlers?.remove();
    this.#drain = new AbortController();
    this.#termination = this.#runTermination(reason, this.#drain, external);
    return this.#termination;
  }

  async #runTermination(
    reason: TerminationContext["reason"],
    drain: AbortController,
    external: AbortSignal | undefined,
  ): Promise<void> {
    await this.#reportDuringTermination("terminating");
    const deadline = new Date(Date.now() + this.#drainTimeoutMs);
    const timer = setTimeout(
      () => drain.abort(new MaestroRoomError("aborted", `drain deadline of ${this.#drainTimeoutMs} ms reached`)),
      this.#drainTimeoutMs,
    );
    const stopOnExternal = (): void => drain.abort(external?.reason);
    if (external?.aborted) stopOnExternal();
    external?.addEventListener("abort", stopOnExternal, { once: true });
    try {
      await this.#runHooks({ signal: drain.signal, deadline, reason });
    } finally {
      clearTimeout(timer);
      external?.removeEventListener("abort", stopOnExternal);
    }
    await this.#reportDuringTermination("terminated");
    await this.#shutdown();
  }

  async #runHooks(context: TerminationContext): Promise<void> {
    let unfinished = this.#hooks.size;
    const all = Promise.all(
      [...this.#hooks].map(async (hook) => {
        try {
          await hook(context);
        } catch (e) {
          // Rejecting with the drain signal's reason is how a cooperative hook stops; only real failures are reported.
          if (!(context.signal.aborted && isAbortReason(e, context.signal))) {
            this.#report(new MaestroRoomError("hook_failed", `termination hook failed: ${describe(e)}`, { cause: e }), {
              during: "termination",
              consecutiveFailures: 0,
            });
          }
        } finally {
          unfinished -= 1;
        }
      }),
    );
    const deadline = new Promise<void>((resolve) => {
      if (context.signal.aborted) resolve();
      context.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    await Promise.race([all, deadline]);
    // Hooks that return as soon as the signal fires finish a few microtasks later; let them before judging.
    if (unfinished > 0) await new Promise((resolve) => setImmediate(resolve));
    if (unfinished > 0) {
      this.#report(
        new MaestroRoomError(
          "hook_failed",
          `${unfinished} termination hook(s) still running when the drain ended (${reason(context)})`,
        ),
        { during: "termination", consecutiveFailures: 0 },
      );
    }
  }

  async #reportDuringTermination(status: "terminating" | "terminated"): Promise<void> {
    const body: PingBody = {
      status,
      runningMatches: this.#current?.runningMatches ?? 0,
      metadata: this.#current?.metadata ?? {},
    };
    this.#current = body;
    try {
      await this.#enqueuePing(() => body);
    } catch (e) {
      if (status === "terminating") this.#keepAlive.retrySoon();
      this.#report(MaestroRoomError.from(e), { during: "termination", consecutiveFailures: 0 });
    }
  }

  async #shutdown(): Promise<void> {
    if (this.#lifecycle === "closed") return this.closed;
    this.#lifecycle = "closed";
    this.#signalHandlers?.remove();
    await this.#keepAlive.stop();
    this.#resolveClosed();
  }

  #enqueuePing(body: () => PingBody | undefined, signal?: AbortSignal): Promise<void> {
    const send = async (): Promise<void> => {
      const current = body();
      if (current === undefined) return;
      await this.#client.ping(current, signal);
      // Success re-arms the loop; `terminated` is final so there is nothing left to keep alive.
      if (current.status === "terminated") void this.#keepAlive.stop();
      else this.#keepAlive.succeeded();
    };
    const run = this.#pingQueue.then(send, send);
    this.#pingQueue = run.catch(() => undefined);
    return run;
  }

  #report(error: MaestroRoomError, context: ErrorContext): void {
    try {
      this.#onError(error, context);
    } catch {
      // The error handler is user code; its failure must not break the loop or termination.
    }
  }

  #assertOpen(): void {
    if (this.#lifecycle === "closed") throw new MaestroRoomError("closed", "the room is closed");
  }
}

/** Same as `new MaestroRoom(config)`. */
export function createMaestroRoom(config: MaestroRoomConfig): MaestroRoom {
  return new MaestroRoom(config);
}

function defaultRunningMatches(status: RoomStatus, current: PingBody | undefined): number {
  if (status === "ready") return 0;
  if (status === "occupied") return 1;
  return current?.runningMatches ?? 0;
}

function reason(context: TerminationContext): string {
  return context.reason === "terminate" ? "terminate() called" : `${context.reason} received`;
}

function isAbortReason(e: unknown, signal: AbortSignal): boolean {
  return (
    e === signal.reason ||
    (e instanceof Error && (e.name === "AbortError" || (isMaestroRoomError(e) && e.code === "aborted")))
  );
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function validUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new MaestroRoomError("invalid_config", `roomsApiUrl is not a URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new MaestroRoomError("invalid_config", `roomsApiUrl must be http(s), got ${url.protocol}`);
  }
  return value.replace(/\/+$/, "");
}

function nonEmpty(name: string, value: string, code: MaestroRoomErrorCode = "invalid_argument"): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new MaestroRoomError(code, `${name} must be a non-empty string`);
  }
  return value;
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new MaestroRoomError("invalid_config", `${name} must be a positive number, got ${value}`);
  }
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new MaestroRoomError("invalid_config", `${name} must be zero or a positive number, got ${value}`);
  }
  return value;
}
