import type { MaestroRoomError } from "./errors.js";

/** Statuses a room reports to Maestro. */
export type RoomStatus = "ready" | "occupied" | "terminating" | "terminated";

export const ROOM_STATUSES: readonly RoomStatus[] = ["ready", "occupied", "terminating", "terminated"];

export type Metadata = Record<string, unknown>;

export interface CallOptions {
  signal?: AbortSignal;
}

export interface StatusOptions extends CallOptions {
  /** Matches running in this room. Defaults to 0 for `ready` and 1 for `occupied`. */
  runningMatches?: number;
  /** Free-form metadata stored on the room and forwarded to matchmakers; re-sent by the keep-alive loop. */
  metadata?: Metadata;
}

export interface TerminationContext {
  /** Fires when the drain deadline is reached: stop waiting and let the SDK report `terminated`. */
  signal: AbortSignal;
  /** When the SDK stops waiting for hooks. */
  deadline: Date;
  /** The OS signal that started termination, or `"terminate"` when `room.terminate()` was called. */
  reason: NodeJS.Signals | "terminate";
}

export type TerminationHook = (context: TerminationContext) => void | Promise<void>;

export interface ErrorContext {
  /** Where the failure happened; keep-alive failures are retried, termination failures are not. */
  during: "keep-alive" | "termination";
  /** Keep-alive failures in a row, including this one (0 during termination). */
  consecutiveFailures: number;
}

export type ErrorHandler = (error: MaestroRoomError, context: ErrorContext) => void;

/** Behaviour knobs shared by `MaestroRoom.fromEnv` and `createMaestroRoom`. */
export interface MaestroRoomOptions {
  /**
   * How often the last status is re-sent, ±10 % jitter.
   * @defaultValue 10_000
   */
  pingIntervalMs?: number;
  /**
   * First retry delay after a failed ping; doubles on each failure, capped at `pingIntervalMs`.
   * @defaultValue 1_000
   */
  retryInitialDelayMs?: number;
  /**
   * Per-request timeout.
   * @defaultValue 5_000
   */
  requestTimeoutMs?: number;
  /**
   * Called for background failures (keep-alive pings, termination steps). Foreground calls reject instead.
   * @defaultValue a `console.warn` once per failure streak
   */
  onError?: ErrorHandler;
  /**
   * OS signals that start graceful termination; `false` leaves signals to the application.
   * @defaultValue ["SIGTERM", "SIGINT"]
   */
  handleSignals?: false | readonly NodeJS.Signals[];
  /**
   * How long termination hooks may run before the SDK reports `terminated` anyway.
   * @defaultValue 25_000
   */
  drainTimeoutMs?: number;
  /** A hook run on termination; more can be added with `room.onTermination()`. */
  onTermination?: TerminationHook;
  /**
   * Exit the process with code 0 once a signal-triggered termination has reported `terminated`.
   * @defaultValue true
   */
  exitOnTermination?: boolean;
}

/** Where the room is and who it is. `fromEnv` fills this from the environment Maestro gives every room. */
export interface MaestroRoomConfig extends MaestroRoomOptions {
  /** Base URL of the rooms API, e.g. `http://maestro-rooms-api:8080`. */
  roomsApiUrl: string;
  schedulerName: string;
  roomId: string;
  /** Per-room token sent as `Authorization: Bearer <token>`. */
  token?: string | undefined;
  /** Host ports assigned to this room, keyed by lower-cased port name. */
  ports?: Record<string, number>;
}

export interface FromEnvOptions extends MaestroRoomOptions {
  /** Environment to read instead of `process.env`. */
  env?: NodeJS.ProcessEnv;
}
