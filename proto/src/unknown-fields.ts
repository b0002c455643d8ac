import type { DescField, DescMessage } from "@bufbuild/protobuf";

/** A JSON key no field of the message answers to, with the closest field name when one is near enough. */
export interface UnknownJsonField {
  /** Where the key is, e.g. `spec.containers[0].imagePullPolicyy`. */
  path: string;
  suggestion?: string;
}

/**
 * Well-known types whose JSON is not an object of their fields (Struct is free-form JSON that belongs to the client;
 * Duration, Timestamp and wrappers are strings or scalars), so their contents are not checked.
 */
const opaqueTypes = new Set([
  "google.protobuf.Struct",
  "google.protobuf.Value",
  "google.protobuf.ListValue",
  "google.protobuf.Any",
  "google.protobuf.FieldMask",
]);

/**
 * The keys of `json` that ProtoJSON would drop silently (or refuse with its internal message) when decoding it as
 * `desc`, in document order. Both spellings of a field are known (jsonName and the proto name), as ProtoJSON accepts.
 */
export function unknownJsonFields(desc: DescMessage, json: unknown, path = ""): UnknownJsonField[] {
  if (opaqueTypes.has(desc.typeName) || typeof json !== "object" || json === null || Array.isArray(json)) return [];
  const out: UnknownJsonField[] = [];
  for (const [key, value] of Object.entries(json)) {
    const here = path ? `${path}.${key}` : key;
    const field = desc.fields.find((f) => f.jsonName === key || f.name === key);
    if (!field) {
      out.push({ path: here, ...nearest(key, desc.fields) });
      continue;
    }
    out.push(...unknownInValue(field, value, here));
  }
  return out;
}

function unknownInValue(field: DescField, value: unknown, path: string): UnknownJsonField[] {
  switch (field.fieldKind) {
    case "message":
      return unknownJsonFields(field.message, value, path);
    case "list":
      if (field.listKind !== "message" || !Array.isArray(value)) return [];
      return value.flatMap((item, i) => unknownJsonFields(field.message, item, `${path}[${i}]`));
    case "map":
      if (field.mapKind !== "message" || typeof value !== "object" || value === null) return [];
      return Object.entries(value).flatMap(([k, v]) => unknownJsonFields(field.message, v, `${path}.${k}`));
    default:
      return [];
  }
}

/** The field whose JSON name is fewest edits away, if a typo could explain the difference. */
function nearest(key: string, fields: readonly DescField[]): { suggestion?: string } {
  let best: { name: string; distance: number } | undefined;
  for (const f of fields) {
    const distance = editDistance(key.toLowerCase(), f.jsonName.toLowerCase());
    if (!best || distance < best.distance) best = { name: f.jsonName, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(key.length / 3)) ? { suggestion: best.name } : {};
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/** `unknown field roomReplicas; did you mean roomsReplicas?`, one line per key. */
export function describeUnknownJsonFields(unknown: readonly UnknownJsonField[]): string {
  return unknown
    .map((u) => `unknown field ${u.path}${u.suggestion ? `; did you mean ${u.suggestion}?` : ""}`)
    .join("\n");
}
