import { MaestroError } from "../../core/errors.js";

/**
 * PostgreSQL text and JSONB cannot hold U+0000, and no name, command or label needs it, so the API refuses it in any
 * string or key of a request (path, query, body) with the field's name, instead of letting storage fail later.
 * Works on decoded requests of every protocol: protobuf messages and plain JSON alike (`$`-keys are bookkeeping).
 */
export function refuseNulBytes(value: unknown): void {
  const field = findNul(value, "", 0);
  if (field !== undefined) {
    throw MaestroError.invalid([{ field: field || "(request)", message: "must not contain NUL characters (U+0000)" }]);
  }
}

/** Deeper than any message we define: a request nested past this is refused as a whole. */
const MAX_DEPTH = 64;

function findNul(value: unknown, path: string, depth: number): string | undefined {
  if (typeof value === "string") return value.includes("\0") ? path : undefined;
  if (typeof value !== "object" || value === null || value instanceof Uint8Array) return undefined;
  if (depth > MAX_DEPTH) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findNul(value[i], `${path}[${i}]`, depth + 1);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [key, v] of Object.entries(value)) {
    if (key.startsWith("$")) continue;
    const child = path === "" ? key : `${path}.${key}`;
    if (key.includes("\0")) return child;
    const found = findNul(v, child, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}
