export interface Change {
  path: string;
  before: string | undefined;
  after: string | undefined;
}

/** Fields that differ between any two versions and say nothing about what the operator changed. */
const ignored = new Set(["createdAt", "spec.version", "state"]);

/** Leaf values of a JSON document by dotted path (`spec.containers[0].image`). */
export function flatten(value: unknown, path = "", out = new Map<string, string>()): Map<string, string> {
  if (Array.isArray(value)) {
    if (value.length === 0 && path) out.set(path, "[]");
    for (const [i, v] of value.entries()) flatten(v, `${path}[${i}]`, out);
  } else if (value !== null && typeof value === "object") {
    const entries = Object.entries(value);
    if (entries.length === 0 && path) out.set(path, "{}");
    for (const [k, v] of entries) flatten(v, path ? `${path}.${k}` : k, out);
  } else if (path && !ignored.has(path)) {
    out.set(path, JSON.stringify(value));
  }
  return out;
}

/** What changed from one version's definition to another's, field by field, in path order. */
export function diffDefinitions(before: unknown, after: unknown): Change[] {
  const a = flatten(before);
  const b = flatten(after);
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  return paths.filter((p) => a.get(p) !== b.get(p)).map((path) => ({ path, before: a.get(path), after: b.get(path) }));
}
