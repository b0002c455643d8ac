import { Code, ConnectError } from "@connectrpc/connect";
import type { Operation } from "@maestro/proto";

/** The closed set of codes a MaestroClientError can carry; there are no user-defined codes. */
export const clientErrorCodes = [
  "invalid_argument",
  "not_found",
  "already_exists",
  "conflict",
  "failed_precondition",
  "resource_exhausted",
  "unauthenticated",
  "permission_denied",
  "unavailable",
  "canceled",
  "unimplemented",
  "internal",
] as const;

export type ClientErrorCode = (typeof clientErrorCodes)[number];

const byConnectCode: Record<Code, ClientErrorCode> = {
  [Code.Canceled]: "canceled",
  // A client-side deadline (timeoutMs) is the caller giving up, like an abort.
  [Code.DeadlineExceeded]: "canceled",
  [Code.Unknown]: "internal",
  [Code.InvalidArgument]: "invalid_argument",
  [Code.OutOfRange]: "invalid_argument",
  [Code.NotFound]: "not_found",
  [Code.AlreadyExists]: "already_exists",
  // The server maps its "conflict" to Aborted (Maestro's 409).
  [Code.Aborted]: "conflict",
  [Code.PermissionDenied]: "permission_denied",
  [Code.ResourceExhausted]: "resource_exhausted",
  [Code.FailedPrecondition]: "failed_precondition",
  [Code.Unimplemented]: "unimplemented",
  [Code.Internal]: "internal",
  [Code.DataLoss]: "internal",
  [Code.Unavailable]: "unavailable",
  [Code.Unauthenticated]: "unauthenticated",
};

const marker = Symbol.for("@maestro/sdk-management/MaestroClientError");

export interface MaestroClientErrorOptions {
  cause?: unknown;
  /** The operation that ended in error or canceled (set by waitForOperation). */
  operation?: Operation;
}

/** The only error the management client throws. `message` is `[code] rawMessage`; branch on `code`. */
export class MaestroClientError extends Error {
  override readonly name = "MaestroClientError";
  readonly code: ClientErrorCode;
  /** The server's message without the code prefix; for invalid_argument it names every bad field. */
  readonly rawMessage: string;
  readonly operation: Operation | undefined;

  constructor(code: ClientErrorCode, rawMessage: string, options: MaestroClientErrorOptions = {}) {
    super(`[${code}] ${rawMessage}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.rawMessage = rawMessage;
    this.operation = options.operation;
    Object.defineProperty(this, marker, { value: true });
  }

  /** Last line of the operation's execution history, when the error comes from waitForOperation. */
  get lastEvent(): string | undefined {
    return this.operation?.executionHistory.at(-1)?.event;
  }

  // Structural check: instanceof keeps working across the ESM and CJS builds or two installed copies.
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }

  /** Wraps anything (ConnectError, AbortError, TypeError from fetch, ...) into a MaestroClientError. */
  static from(reason: unknown): MaestroClientError {
    if (reason instanceof MaestroClientError) return reason;
    const ce = ConnectError.from(reason);
    return new MaestroClientError(byConnectCode[ce.code] ?? "internal", ce.rawMessage, { cause: reason });
  }
}

export function isMaestroClientError(value: unknown, code?: ClientErrorCode): value is MaestroClientError {
  return value instanceof MaestroClientError && (code === undefined || value.code === code);
}
