/**
 * Why a call failed. The set is closed: callers can switch on it exhaustively.
 * - `invalid_config`: missing environment variable or bad option; fix the deployment, retrying will not help.
 * - `invalid_argument`: a method was called with a bad value (unknown status, negative match count, empty id).
 * - `request_failed`: the rooms API could not be reached, timed out or answered 5xx; worth retrying.
 * - `rejected`: the rooms API answered but refused (4xx or `success: false`).
 * - `aborted`: the caller's AbortSignal fired.
 * - `closed`: the room was closed (or finished terminating) before the call.
 * - `hook_failed`: a termination hook threw or did not finish before the drain deadline.
 */
export type MaestroRoomErrorCode =
  | "invalid_config"
  | "invalid_argument"
  | "request_failed"
  | "rejected"
  | "aborted"
  | "closed"
  | "hook_failed";

export const MAESTRO_ROOM_ERROR_CODES: readonly MaestroRoomErrorCode[] = [
  "invalid_config",
  "invalid_argument",
  "request_failed",
  "rejected",
  "aborted",
  "closed",
  "hook_failed",
];

// A registry symbol survives the ESM/CJS dual-package hazard: two copies of this class still recognise each other.
const brand = Symbol.for("@maestro/sdk-room/MaestroRoomError");

export interface MaestroRoomErrorOptions {
  /** HTTP status of the rooms API answer, when there was one. */
  status?: number;
  /** The numeric `code` field of the rooms API error body, when there was one. */
  apiCode?: number;
  cause?: unknown;
}

export class MaestroRoomError extends Error {
  override readonly name = "MaestroRoomError";
  readonly code: MaestroRoomErrorCode;
  readonly status: number | undefined;
  readonly apiCode: number | undefined;

  constructor(code: MaestroRoomErrorCode, message: string, options: MaestroRoomErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.apiCode = options.apiCode;
    Object.defineProperty(this, brand, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return isMaestroRoomError(value);
  }

  /** Wraps anything thrown into a MaestroRoomError, keeping an existing one as is. */
  static from(reason: unknown, code: MaestroRoomErrorCode = "request_failed"): MaestroRoomError {
    if (isMaestroRoomError(reason)) return reason;
    const message = reason instanceof Error ? reason.message : String(reason);
    return new MaestroRoomError(code, message, { cause: reason });
  }
}

export function isMaestroRoomError(value: unknown): value is MaestroRoomError {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[brand] === true;
}
