import { type DescMessage, fromJson, type JsonValue, toJson } from "@bufbuild/protobuf";
import {
  type CreateSchedulerRequest,
  CreateSchedulerRequestSchema,
  describeUnknownJsonFields,
  type NewSchedulerVersionRequest,
  NewSchedulerVersionRequestSchema,
  type PatchSchedulerRequest,
  PatchSchedulerRequestSchema,
  SchedulerSchema,
  unknownJsonFields,
} from "@maestro/proto";
import { MaestroClientError } from "./errors.js";

/**
 * Maestro clients send `terminationGracePeriod` as 100, "100" or "100s"; ProtoJSON only accepts the last form for a
 * google.protobuf.Duration, so the first two are rewritten before decoding.
 */
export function normalizeDurations(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalizeDurations);
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const isDuration = key === "terminationGracePeriod" || key === "termination_grace_period";
    out[key] = isDuration && isBareSeconds(v) ? `${String(v).trim()}s` : normalizeDurations(v);
  }
  return out;
}

function isBareSeconds(v: unknown): boolean {
  return (typeof v === "number" && Number.isFinite(v)) || (typeof v === "string" && /^\d+(\.\d+)?$/.test(v.trim()));
}

/** Unknown keys named with their path and nearest field, instead of ProtoJSON's message about its internals. */
function refuseUnknown(what: string, desc: DescMessage, json: unknown): void {
  const unknown = unknownJsonFields(desc, json);
  if (unknown.length > 0) {
    throw new MaestroClientError("invalid_argument", `invalid ${what}: ${describeUnknownJsonFields(unknown)}`);
  }
}

function decode<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new MaestroClientError("invalid_argument", `invalid ${what}: ${reason}`, { cause: err });
  }
}

/**
 * Builds a create-scheduler request from Maestro's camelCase JSON (the body of `POST /schedulers`). Unknown fields
 * are rejected so that a typo does not silently drop a setting.
 */
export function schedulerFromJson(json: unknown): CreateSchedulerRequest {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new MaestroClientError("invalid_argument", "invalid scheduler: expected a JSON object");
  }
  refuseUnknown("scheduler", CreateSchedulerRequestSchema, json);
  return decode("scheduler", () =>
    fromJson(CreateSchedulerRequestSchema, normalizeDurations(json) as JsonValue, { ignoreUnknownFields: false }),
  );
}

/**
 * Fields a scheduler read back carries (state, createdAt, roomsCrashing…) that no definition takes: taken from the
 * messages themselves so that a new read-only field is covered and a typo never is.
 */
const outputOnly = new Set(
  SchedulerSchema.fields
    .filter((f) => !CreateSchedulerRequestSchema.fields.some((c) => c.name === f.name))
    .flatMap((f) => [f.jsonName, f.name]),
);

/**
 * Lets what `schedulers get -o yaml|json` printed be applied back: the read-only fields are left out and named, so
 * the caller can say so. Everything else is untouched and still checked.
 */
export function withoutOutputOnlyFields(json: unknown): { json: unknown; dropped: string[] } {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return { json, dropped: [] };
  const kept: Record<string, unknown> = {};
  const dropped: string[] = [];
  for (const [key, value] of Object.entries(json)) {
    if (outputOnly.has(key)) dropped.push(key);
    else kept[key] = value;
  }
  return { json: kept, dropped };
}

/** The same definition as a new version of an existing scheduler. */
export function newVersionFromScheduler(req: CreateSchedulerRequest): NewSchedulerVersionRequest {
  return fromJson(NewSchedulerVersionRequestSchema, toJson(CreateSchedulerRequestSchema, req));
}

/** Builds a patch (`PATCH /schedulers/{name}` body) from camelCase JSON; `name` comes from the argument. */
export function patchFromJson(name: string, json: unknown): PatchSchedulerRequest {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new MaestroClientError("invalid_argument", "invalid patch: expected a JSON object");
  }
  refuseUnknown("patch", PatchSchedulerRequestSchema, json);
  const req = decode("patch", () =>
    fromJson(PatchSchedulerRequestSchema, normalizeDurations(json) as JsonValue, { ignoreUnknownFields: false }),
  );
  req.name = name;
  return req;
}
