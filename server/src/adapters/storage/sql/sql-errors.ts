import { MaestroError } from "../../../core/errors.js";
import type { CallOptions } from "../../../core/ports/call-options.js";
import { unavailableErrnos } from "../network-errors.js";

const unavailableMessages = [
  /connection terminated/i,
  /connection timeout/i,
  /timeout exceeded when trying to connect/i,
  /cannot use a pool after calling end/i,
  /client has encountered a connection error/i,
  /pglite is closed/i,
];

/** SQLSTATE of a driver error (pg and PGlite both expose `code`), if any. */
export function sqlState(reason: unknown): string | undefined {
  const code = (reason as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Maps a driver error to MaestroError: unique violation → already_exists, lost connection → unavailable. */
export function toMaestroError(reason: unknown): MaestroError {
  if (reason instanceof MaestroError) return reason;
  const state = sqlState(reason);
  const message = reason instanceof Error ? reason.message : String(reason);
  if (state === "23505") return new MaestroError("already_exists", message, { cause: reason });
  // 08: connection exception; 57P01-03: server shutting down or starting; 53300: too many connections.
  if (state?.startsWith("08") || /^57P0[123]$/.test(state ?? "") || state === "53300") {
    return new MaestroError("unavailable", message, { cause: reason });
  }
  if (state === "57014") return new MaestroError("canceled", message, { cause: reason });
  if (isConnectionFailure(reason)) return new MaestroError("unavailable", message, { cause: reason });
  return MaestroError.from(reason);
}

function isConnectionFailure(reason: unknown): boolean {
  const errno = (reason as { code?: unknown } | null)?.code;
  if (typeof errno === "string" && unavailableErrnos.has(errno)) return true;
  // Node reports a refused dual-stack connect as an AggregateError whose parts carry the errno.
  if (reason instanceof AggregateError && reason.errors.some(isConnectionFailure)) return true;
  const message = reason instanceof Error ? reason.message : "";
  return unavailableMessages.some((pattern) => pattern.test(message));
}

export function checkSignal(opts: CallOptions | undefined): void {
  const signal = opts?.signal;
  if (signal?.aborted) {
    const reason: unknown = signal.reason;
    throw new MaestroError("canceled", reason instanceof Error ? reason.message : "operation was aborted", {
      cause: reason,
    });
  }
}
