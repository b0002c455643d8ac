import type { GameRoom, Instance, InstanceEvent } from "../entities/game-room.js";
import type { RoomUsage } from "../entities/room-usage.js";
import type { Scheduler } from "../entities/scheduler.js";
import type { FieldViolation } from "../errors.js";
import type { CallOptions } from "./call-options.js";

/** One host port chosen for one declared container port. */
export interface AllocatedPort {
  /** The container port's name. */
  name: string;
  protocol: string;
  /** Port the room listens on inside its container/process. */
  containerPort: number;
  /** Port reachable from clients. For the process runtime it equals the port the process binds. */
  hostPort: number;
}

/** Environment every room receives besides its own container env. */
export interface RoomEnvironment {
  roomsApiUrl: string;
  /** Per-room token for the rooms API; empty when the rooms API runs without room tokens. */
  roomToken: string;
}

/** Where and how rooms run: pods on Kubernetes, child processes on this machine. */
export interface Runtime {
  readonly name: string;
  /**
   * Set by runtimes whose rooms live and die with this server (the process runtime: one per data directory). Their
   * instances carry it as `owner`, so after a restart the runtime's absence of a room proves the room gone. Runtimes
   * that list every room of a scheduler wherever it runs (Kubernetes) leave it out: their list is the whole truth.
   */
  readonly identity?: string | undefined;
  /**
   * What of this scheduler the runtime cannot run (e.g. a Kubernetes-only environment source on the process runtime),
   * checked at the API edge on create, patch and new version so it is refused with a 400 instead of failing later.
   */
  refusedFields?(scheduler: Scheduler): FieldViolation[];
  /** Prepares the scheduler's home (namespace, working directory). Throws already_exists if it is there. */
  createScheduler(scheduler: Scheduler, opts?: CallOptions): Promise<void>;
  /** Removes the scheduler's home and every room still in it; no error when absent. */
  deleteScheduler(scheduler: Scheduler, opts?: CallOptions): Promise<void>;
  /** Starts a room and returns its instance (usually `pending`). */
  createRoom(
    scheduler: Scheduler,
    room: GameRoom,
    ports: AllocatedPort[],
    env: RoomEnvironment,
    opts?: CallOptions,
  ): Promise<Instance>;
  /** Asks a room to stop: SIGTERM / pod delete, then a kill after `graceSeconds`. Throws not_found. */
  deleteRoom(schedulerName: string, roomId: string, reason: string, opts?: CallOptions): Promise<void>;
  /** Instances present now (used to reconcile after a restart). */
  listInstances(schedulerName: string, opts?: CallOptions): Promise<Instance[]>;
  /** Instance changes of one scheduler until the signal aborts. */
  watch(schedulerName: string, opts: Required<CallOptions>): AsyncIterable<InstanceEvent>;
  /** Host ports held by live rooms of every scheduler, so allocation can avoid them. */
  portsInUse(opts?: CallOptions): Promise<Set<number>>;
  /**
   * Protects a scheduler's rooms against voluntary disruptions (Kubernetes: its PodDisruptionBudget follows the room
   * count). Runtimes without such disruptions leave it out.
   */
  mitigateDisruption?(schedulerName: string, rooms: number, opts?: CallOptions): Promise<void>;
  /**
   * CPU and memory each live room of the scheduler uses now, with its containers' requests (from the scheduler's spec
   * for processes, from the pods' specs on Kubernetes). Rooms the runtime cannot measure yet are left out.
   */
  roomUsage?(scheduler: Scheduler, opts?: CallOptions): Promise<RoomUsage[]>;
  /**
   * The last `tailLines` lines of a room's log: a live room's, or a copy kept for the last few rooms that crashed
   * (`crashed`). Throws not_found when the runtime has none.
   */
  roomLog?(
    schedulerName: string,
    roomId: string,
    tailLines: number,
    opts?: CallOptions,
  ): Promise<{ log: string; crashed: boolean }>;
  /**
   * Resolves when this runtime can serve rooms now, else throws saying why (what /readyz reports). Process: its rooms
   * folder is writable. Kubernetes: the API server answers and the pod and node watches have synced.
   */
  ready(opts?: CallOptions): Promise<void>;
  /** Stops every room this runtime started in this process (process runtime) or releases clients (Kubernetes). */
  close(): Promise<void>;
}
