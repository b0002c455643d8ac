import { MaestroError } from "../errors.js";

/** Small readers for operation inputs, which arrive as JSON from storage or the API. */
export function asObject(input: unknown, operation: string): Record<string, unknown> {
  if (input === undefined || input === null) return {};
  if (typeof input !== "object" || Array.isArray(input)) {
    throw MaestroError.invalid([{ field: "input", message: `${operation} input must be an object` }]);
  }
  return input as Record<string, unknown>;
}

export function positiveInt(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw MaestroError.invalid([{ field, message: "must be an integer of at least 1" }]);
  }
  return value;
}
