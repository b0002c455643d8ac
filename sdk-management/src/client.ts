import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  type Client,
  type CallOptions as ConnectCallOptions,
  createClient,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
import {
  type AllocateRoomResponse,
  CreateSchedulerRequestSchema,
  type GameRoom,
  GameRoomsService,
  type ListOperationItem,
  type ListOperationsResponse,
  type Operation,
  OperationsService,
  type PatchSchedulerRequestSchema,
  RoomsService,
  type Scheduler,
  type SchedulerInfo,
  SchedulersService,
  type SchedulerVersion,
  type SchedulerWithoutSpec,
} from "@maestro/proto";
import { MaestroClientError } from "./errors.js";
import { abortableSleep, isFinalStatus, type RoomChange, roomChanges } from "./polling.js";
import { newVersionFromScheduler } from "./scheduler-json.js";

export interface MaestroClientOptions {
  /** Management API address, e.g. http://127.0.0.1:8080. */
  baseUrl: string;
  /** Bearer token sent on every call (MAESTRO_MANAGEMENTAPI_WRITETOKENS / READTOKENS on the server). */
  token?: string;
  /** Rooms API address, needed only by allocateRoom, e.g. http://127.0.0.1:8070. */
  roomsApiUrl?: string;
  /**
   * Bearer token for the rooms API (allocateRoom): one of the server's `roomsApi.matchmakerTokens`
   * (MAESTRO_ROOMSAPI_MATCHMAKERTOKENS). Not needed when the rooms API listens on loopback with none configured.
   */
  matchmakerToken?: string;
  /** Default deadline of each call; a call's own timeoutMs wins. */
  timeoutMs?: number;
  /** A fetch implementation to send requests with instead of Node's http module (tests, proxies). */
  fetch?: typeof globalThis.fetch;
}

/** Accepted by every method. */
export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

export type OperationStage = "pending" | "active" | "final";

/** A whole scheduler definition, as for `POST /schedulers` (also used for new versions). */
export type SchedulerDefinition = MessageInitShape<typeof CreateSchedulerRequestSchema>;
/** Fields to change in the active version; `name` is taken from the argument. */
export type SchedulerPatch = Omit<MessageInitShape<typeof PatchSchedulerRequestSchema>, "name" | "$typeName">;

export interface WaitForOperationOptions {
  /** Called with the operation whenever its status or history changes (also once at the start). */
  onProgress?: (op: Operation) => void;
  /** @defaultValue 500 */
  pollIntervalMs?: number;
  signal?: AbortSignal;
  /** Overall deadline of the wait; absent means no deadline. */
  timeoutMs?: number;
}

export interface SchedulersApi {
  list(
    filter?: { name?: string; game?: string; version?: string },
    opts?: CallOptions,
  ): Promise<SchedulerWithoutSpec[]>;
  /** The active version, or `opts.version`. */
  get(name: string, opts?: CallOptions & { version?: string }): Promise<Scheduler>;
  /** Stores the scheduler (state `creating`) and enqueues create_scheduler; see `findOperation` to wait for it. */
  create(definition: SchedulerDefinition, opts?: CallOptions): Promise<Scheduler>;
  /** Enqueues create_new_scheduler_version with a whole definition; resolves with the operation id. */
  newVersion(definition: SchedulerDefinition, opts?: CallOptions): Promise<string>;
  /** Enqueues create_new_scheduler_version with the active version patched; resolves with the operation id. */
  patch(name: string, patch: SchedulerPatch, opts?: CallOptions): Promise<string>;
  /** Versions, newest first. */
  versions(name: string, opts?: CallOptions): Promise<SchedulerVersion[]>;
  switchActiveVersion(name: string, version: string, opts?: CallOptions): Promise<string>;
  /** Room counts per scheduler, optionally of one game. */
  info(game?: string, opts?: CallOptions): Promise<SchedulerInfo[]>;
  delete(name: string, opts?: CallOptions): Promise<string>;
  addRooms(name: string, amount: number, opts?: CallOptions): Promise<string>;
  removeRooms(name: string, amount: number, opts?: CallOptions): Promise<string>;
}

export interface OperationsApi {
  list(
    scheduler: string,
    query: { stage: OperationStage; page?: number; perPage?: number; orderBy?: string },
    opts?: CallOptions,
  ): Promise<ListOperationsResponse>;
  get(scheduler: string, id: string, opts?: CallOptions): Promise<Operation>;
  cancel(scheduler: string, id: string, opts?: CallOptions): Promise<void>;
}

/** `client.rooms(scheduler)` iterates the rooms; `client.rooms.list/get` are the plain calls. */
export interface RoomsApi {
  (scheduler: string, opts?: CallOptions & { status?: string }): AsyncIterable<GameRoom>;
  list(scheduler: string, opts?: CallOptions & { status?: string }): Promise<GameRoom[]>;
  get(scheduler: string, id: string, opts?: CallOptions): Promise<GameRoom>;
  /** The last lines of a room's log (a live room's, or one of the last crashed rooms'). */
  log(
    scheduler: string,
    id: string,
    opts?: CallOptions & { tailLines?: number },
  ): Promise<{ log: string; crashed: boolean }>;
}

export interface MaestroClient {
  readonly schedulers: SchedulersApi;
  readonly operations: OperationsApi;
  readonly rooms: RoomsApi;
  /** Hands out a ready room (rooms API, `roomsApiUrl`). */
  allocateRoom(
    scheduler: string,
    req?: { metadataSelector?: Record<string, string>; idempotencyKey?: string },
    opts?: CallOptions,
  ): Promise<AllocateRoomResponse>;
  /**
   * Polls an operation until it is final. Resolves with it when finished; rejects with a MaestroClientError whose
   * code is "canceled" (operation canceled, or the signal aborted) or "failed_precondition" (error, evicted), carrying
   * `operation` and `lastEvent`.
   */
  waitForOperation(scheduler: string, id: string, opts?: WaitForOperationOptions): Promise<Operation>;
  /** Every operation of a stage, paging through `final`. */
  listAllOperations(
    scheduler: string,
    stage: OperationStage,
    opts?: CallOptions & { perPage?: number },
  ): AsyncIterable<ListOperationItem>;
  /** The newest operation of a definition (e.g. create_scheduler), looking at pending, active then final. */
  findOperation(scheduler: string, definitionName: string, opts?: CallOptions): Promise<ListOperationItem | undefined>;
  /**
   * Room changes of a scheduler: every room once as "added", then "updated"/"removed" as they happen. The server
   * has no streaming RPC yet, so this polls ListRooms every `intervalMs`; it ends when the signal aborts.
   */
  watchRooms(scheduler: string, opts?: { intervalMs?: number; signal?: AbortSignal }): AsyncIterable<RoomChange>;
}

function bearer(token: string): Interceptor {
  return (next) => (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
}

/** Builds the Connect transport to one API address: Node's http module or fetch, see node-client.ts and web.ts. */
export type TransportFactory = (url: string, options: MaestroClientOptions) => Transport;

/** The interceptors every transport carries: the bearer token when there is one. */
export function authInterceptors(o: MaestroClientOptions): Interceptor[] {
  return o.token ? [bearer(o.token)] : [];
}

function callOpts(opts: CallOptions | undefined): ConnectCallOptions {
  return { signal: opts?.signal, timeoutMs: opts?.timeoutMs };
}

/** Runs a call, turning whatever it throws into a MaestroClientError. */
async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw MaestroClientError.from(err);
  }
}

/** The client over a given transport; use createMaestroClient from the package (Node) or from its /web entry. */
export function createMaestroClientWith(options: MaestroClientOptions, transportFor: TransportFactory): MaestroClient {
  const transport = transportFor(options.baseUrl, options);
  const sched: Client<typeof SchedulersService> = createClient(SchedulersService, transport);
  const ops: Client<typeof OperationsService> = createClient(OperationsService, transport);
  const gameRooms: Client<typeof GameRoomsService> = createClient(GameRoomsService, transport);
  let roomsApi: Client<typeof RoomsService> | undefined;

  const schedulers: SchedulersApi = {
    list: (filter = {}, opts) => call(async () => (await sched.listSchedulers(filter, callOpts(opts))).schedulers),
    get: (name, opts) =>
      call(async () => {
        const res = await sched.getScheduler({ schedulerName: name, version: opts?.version ?? "" }, callOpts(opts));
        if (!res.scheduler) throw new MaestroClientError("internal", "GetScheduler returned no scheduler");
        return res.scheduler;
      }),
    create: (definition, opts) =>
      call(async () => {
        const res = await sched.createScheduler(definition, callOpts(opts));
        if (!res.scheduler) throw new MaestroClientError("internal", "CreateScheduler returned no scheduler");
        return res.scheduler;
      }),
    newVersion: (definition, opts) =>
      call(async () => {
        const req = newVersionFromScheduler(create(CreateSchedulerRequestSchema, definition));
        return (await sched.newSchedulerVersion(req, callOpts(opts))).operationId;
      }),
    patch: (name, patch, opts) =>
      call(async () => (await sched.patchScheduler({ ...patch, name }, callOpts(opts))).operationId),
    versions: (name, opts) =>
      call(async () => (await sched.getSchedulerVersions({ schedulerName: name }, callOpts(opts))).versions),
    switchActiveVersion: (name, version, opts) =>
      call(async () => (await sched.switchActiveVersion({ schedulerName: name, version }, callOpts(opts))).operationId),
    info: (game, opts) =>
      call(async () => (await sched.getSchedulersInfo({ game: game ?? "" }, callOpts(opts))).schedulers),
    delete: (name, opts) =>
      call(async () => (await sched.deleteScheduler({ schedulerName: name }, callOpts(opts))).operationId),
    addRooms: (name, amount, opts) =>
      call(async () => (await sched.addRooms({ schedulerName: name, amount }, callOpts(opts))).operationId),
    removeRooms: (name, amount, opts) =>
      call(async () => (await sched.removeRooms({ schedulerName: name, amount }, callOpts(opts))).operationId),
  };

  const operations: OperationsApi = {
    list: (scheduler, q, opts) =>
      call(() =>
        ops.listOperations(
          { schedulerName: scheduler, stage: q.stage, page: q.page, perPage: q.perPage, orderBy: q.orderBy ?? "" },
          callOpts(opts),
        ),
      ),
    get: (scheduler, id, opts) =>
      call(async () => {
        const res = await ops.getOperation({ schedulerName: scheduler, operationId: id }, callOpts(opts));
        if (!res.operation) throw new MaestroClientError("internal", "GetOperation returned no operation");
        return res.operation;
      }),
    cancel: (scheduler, id, opts) =>
      call(async () => {
        await ops.cancelOperation({ schedulerName: scheduler, operationId: id }, callOpts(opts));
      }),
  };

  const listRooms = (scheduler: string, opts?: CallOptions & { status?: string }) =>
    call(
      async () =>
        (await gameRooms.listRooms({ schedulerName: scheduler, status: opts?.status || undefined }, callOpts(opts)))
          .rooms,
    );

  // ListRooms has no paging, so the iterator is one call; it exists so callers do not change when paging arrives.
  const rooms: RoomsApi = Object.assign(
    async function* iterateRooms(scheduler: string, opts?: CallOptions & { status?: string }) {
      yield* await listRooms(scheduler, opts);
    },
    {
      list: listRooms,
      get: (scheduler: string, id: string, opts?: CallOptions) =>
        call(async () => {
          const res = await gameRooms.getRoom({ schedulerName: scheduler, roomId: id }, callOpts(opts));
          if (!res.room) throw new MaestroClientError("internal", "GetRoom returned no room");
          return res.room;
        }),
      log: (scheduler: string, id: string, opts?: CallOptions & { tailLines?: number }) =>
        call(async () => {
          const res = await gameRooms.getRoomLog(
            { schedulerName: scheduler, roomId: id, tailLines: opts?.tailLines },
            callOpts(opts),
          );
          return { log: res.log, crashed: res.crashed };
        }),
    },
  );

  async function* listAllOperations(
    scheduler: string,
    stage: OperationStage,
    opts?: CallOptions & { perPage?: number },
  ): AsyncGenerator<ListOperationItem> {
    if (stage !== "final") {
      yield* (await operations.list(scheduler, { stage }, opts)).operations;
      return;
    }
    const perPage = opts?.perPage ?? 100;
    let seen = 0;
    for (let page = 1; ; page++) {
      const res = await operations.list(scheduler, { stage, page, perPage }, opts);
      yield* res.operations;
      seen += res.operations.length;
      if (res.operations.length < perPage || (res.total !== undefined && seen >= res.total)) return;
    }
  }

  return {
    schedulers,
    operations,
    rooms,
    allocateRoom: (scheduler, req = {}, opts) =>
      call(async () => {
        if (!options.roomsApiUrl) {
          throw new MaestroClientError("failed_precondition", "allocateRoom needs the roomsApiUrl client option");
        }
        // The rooms API knows matchmakers, not management tokens: never send the management token there.
        roomsApi ??= createClient(
          RoomsService,
          transportFor(options.roomsApiUrl, { ...options, token: options.matchmakerToken }),
        );
        return roomsApi.allocateRoom({ schedulerName: scheduler, ...req }, callOpts(opts));
      }),

    async waitForOperation(scheduler, id, opts = {}) {
      const signals = [opts.signal, opts.timeoutMs === undefined ? undefined : AbortSignal.timeout(opts.timeoutMs)];
      const signal = AbortSignal.any(signals.filter((s): s is AbortSignal => s !== undefined));
      let lastKey = "";
      for (;;) {
        const op = await operations.get(scheduler, id, { signal });
        const key = `${op.status}/${op.executionHistory.length}`;
        if (key !== lastKey) {
          lastKey = key;
          opts.onProgress?.(op);
        }
        if (isFinalStatus(op.status)) {
          if (op.status === "finished") return op;
          const last = op.executionHistory.at(-1)?.event;
          const detail = last ? `: ${last}` : "";
          const message = `operation ${op.id} (${op.definitionName}) ended ${op.status}${detail}`;
          throw new MaestroClientError(op.status === "canceled" ? "canceled" : "failed_precondition", message, {
            operation: op,
          });
        }
        try {
          await abortableSleep(opts.pollIntervalMs ?? 500, signal);
        } catch (err) {
          throw MaestroClientError.from(err);
        }
      }
    },

    listAllOperations,

    async findOperation(scheduler, definitionName, opts) {
      for (const stage of ["pending", "active", "final"] as const) {
        const res = await operations.list(scheduler, { stage, page: stage === "final" ? 1 : undefined }, opts);
        const match = res.operations.find((o) => o.definitionName === definitionName);
        if (match) return match;
      }
      return undefined;
    },

    watchRooms: (scheduler, opts = {}) =>
      roomChanges((signal) => listRooms(scheduler, { signal }), opts.intervalMs ?? 1000, opts.signal),
  };
}
