const opaqueKeys = new Set(["custom", "metadata"]);

/**
 * Maestro clients send `terminationGracePeriod` as "100s", "100" or 100. ProtoJSON only takes the first for a
 * google.protobuf.Duration, so the other two are rewritten before decoding.
 */
export function normalizeDurations(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalizeDurations);
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (opaqueKeys.has(key)) {
      // Free-form JSON (Struct fields) belongs to its owner: a key there that looks like ours is theirs.
      out[key] = v;
    } else if ((key === "terminationGracePeriod" || key === "termination_grace_period") && isBareSeconds(v)) {
      out[key] = `${v}s`;
    } else {
      out[key] = normalizeDurations(v);
    }
  }
  return out;
}

function isBareSeconds(v: unknown): boolean {
  return (typeof v === "number" && Number.isFinite(v)) || (typeof v === "string" && /^\d+(\.\d+)?$/.test(v.trim()));
}
