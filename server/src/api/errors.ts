import { Code, ConnectError } from "@connectrpc/connect";
import { type ErrorCode, MaestroError } from "../core/errors.js";

const toConnect: Record<ErrorCode, Code> = {
  invalid_argument: Code.InvalidArgument,
  not_found: Code.NotFound,
  already_exists: Code.AlreadyExists,
  conflict: Code.Aborted,
  failed_precondition: Code.FailedPrecondition,
  resource_exhausted: Code.ResourceExhausted,
  unavailable: Code.Unavailable,
  canceled: Code.Canceled,
  unauthenticated: Code.Unauthenticated,
  internal: Code.Internal,
};

/**
 * HTTP statuses of the REST API: Maestro's grpc-gateway mapping (InvalidArgument/FailedPrecondition → 400,
 * NotFound → 404, AlreadyExists/Aborted → 409), plus 409 for resource_exhausted (no room to allocate is a state
 * conflict the caller retries, not a server error or a rate limit).
 */
const httpStatusByCode: Partial<Record<Code, number>> = {
  [Code.InvalidArgument]: 400,
  [Code.FailedPrecondition]: 400,
  [Code.OutOfRange]: 400,
  [Code.NotFound]: 404,
  [Code.AlreadyExists]: 409,
  [Code.Aborted]: 409,
  [Code.ResourceExhausted]: 409,
  [Code.Unauthenticated]: 401,
  [Code.PermissionDenied]: 403,
  [Code.Unimplemented]: 501,
  [Code.Unavailable]: 503,
  [Code.DeadlineExceeded]: 504,
  [Code.Canceled]: 499,
};

export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  const e = MaestroError.from(err);
  return new ConnectError(e.message, toConnect[e.code], undefined, undefined, e);
}

export function httpStatusOf(code: Code): number {
  return httpStatusByCode[code] ?? 500;
}

/** Runs a handler body and turns whatever it throws into the matching ConnectError. */
export async function handle<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toConnectError(err);
  }
}
