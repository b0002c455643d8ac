/**
 * The one error type of Maestro. Its code set is closed on purpose: every layer (REST, Connect, CLI, SDKs) maps
 * exactly these codes, so a new failure mode must pick one of them instead of inventing a string.
 */
export const errorCodes = [
  "invalid_argument",
  "not_found",
  "already_exists",
  "conflict",
  "failed_precondition",
  "resource_exhausted",
  "unavailable",
  "canceled",
  "unauthenticated",
  "internal",
] as const;

export type ErrorCode = (typeof errorCodes)[number];

const marker = Symbol.for("@maestro/MaestroError");

export class MaestroError extends Error {
  override readonly name = "MaestroError";
  readonly code: ErrorCode;
  /** Field-level problems for invalid_argument, each naming the field path and the rule it broke. */
  readonly violations: readonly FieldViolation[];

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; violations?: readonly FieldViolation[] }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.violations = options?.violations ?? [];
    Object.defineProperty(this, marker, { value: true });
  }

  // Structural check so that instanceof survives two copies of this module (ESM/CJS or duplicated installs).
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }

  static invalid(violations: readonly FieldViolation[]): MaestroError {
    const lines = violations.map((v) => `${v.field}: ${v.message}`);
    return new MaestroError("invalid_argument", `Validation Error:\n${lines.join("\n")}`, { violations });
  }

  static notFound(what: string): MaestroError {
    return new MaestroError("not_found", `${what} not found`);
  }

  /** Wraps anything thrown by an adapter or library so callers only ever see MaestroError. */
  static from(reason: unknown, code: ErrorCode = "internal"): MaestroError {
    if (reason instanceof MaestroError) return reason;
    if (reason instanceof Error && (reason.name === "AbortError" || reason.name === "TimeoutError")) {
      return new MaestroError("canceled", reason.message, { cause: reason });
    }
    const message = reason instanceof Error ? reason.message : String(reason);
    return new MaestroError(code, message, { cause: reason });
  }
}

export interface FieldViolation {
  /** Path in the API's camelCase JSON, e.g. `spec.containers[0].ports[1].protocol`. */
  field: string;
  message: string;
}

export function isMaestroError(value: unknown, code?: ErrorCode): value is MaestroError {
  return value instanceof MaestroError && (code === undefined || value.code === code);
}
