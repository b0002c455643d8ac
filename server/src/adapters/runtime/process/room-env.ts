import type { Container, Scheduler } from "../../../core/entities/scheduler.js";
import { type FieldViolation, MaestroError } from "../../../core/errors.js";
import type { AllocatedPort, RoomEnvironment } from "../../../core/ports/runtime.js";

/** The only server variables a room inherits: enough to find binaries and temp space, never the server's secrets. */
const inheritedVariables = ["PATH", "HOME", "LANG", "TMPDIR"] as const;

export interface RoomIdentity {
  schedulerName: string;
  roomId: string;
  host: string;
}

/** Refuses what a child process cannot honour, before anything is spawned, naming each offending field. */
export function validateContainers(containers: readonly Container[]): void {
  const violations: FieldViolation[] = [];
  containers.forEach((container, i) => {
    if (container.command.length === 0 || container.command[0] === "") {
      violations.push({
        field: `spec.containers[${i}].command`,
        message: "the process runtime needs a command to run (there is no image entrypoint)",
      });
    }
  });
  violations.push(...unsupportedEnvironment(containers));
  if (violations.length > 0) throw MaestroError.invalid(violations);
}

/** What of a scheduler the process runtime cannot run (ProcessRuntime.refusedFields, usable without a runtime). */
export function refusedByProcessRuntime(scheduler: Scheduler): FieldViolation[] {
  return Array.isArray(scheduler.spec?.containers) ? unsupportedEnvironment(scheduler.spec.containers) : [];
}

/**
 * Environment sources only Kubernetes can fill (secrets, pod fields such as spec.nodeName). Also checked at the API
 * edge (ProcessRuntime.refusedFields), so such a scheduler is refused there instead of failing every room later.
 */
export function unsupportedEnvironment(containers: readonly Container[]): FieldViolation[] {
  const violations: FieldViolation[] = [];
  containers.forEach((container, i) => {
    // Called on unchecked input too: the scheduler's own validation reports malformed containers.
    if (!Array.isArray(container?.environment)) return;
    container.environment.forEach((variable, j) => {
      const field = `spec.containers[${i}].environment[${j}].valueFrom`;
      if (variable?.valueFrom?.secretKeyRef) {
        violations.push({
          field: `${field}.secretKeyRef`,
          message: "secrets are not supported by the process runtime; use a value",
        });
      } else if (
        typeof variable?.valueFrom?.fieldRef?.fieldPath === "string" &&
        fieldValue(variable.valueFrom.fieldRef.fieldPath) === undefined
      ) {
        violations.push({
          field: `${field}.fieldRef.fieldPath`,
          message: `unsupported by the process runtime (supported: ${Object.keys(fieldPaths).join(", ")})`,
        });
      }
    });
  });
  return violations;
}

const fieldPaths: Record<string, (id: RoomIdentity) => string> = {
  "metadata.name": (id) => id.roomId,
  "metadata.namespace": (id) => id.schedulerName,
  "status.hostIP": (id) => id.host,
  "status.podIP": (id) => id.host,
};

function fieldValue(path: string): ((id: RoomIdentity) => string) | undefined {
  return Object.hasOwn(fieldPaths, path) ? fieldPaths[path] : undefined;
}

/** `game-port` → `MAESTRO_PORT_GAME_PORT`. */
export function portVariableName(portName: string): string {
  return `MAESTRO_PORT_${portName.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

/** The environment of one container's process; call validateContainers first. */
export function containerEnvironment(
  container: Container,
  id: RoomIdentity,
  ports: readonly AllocatedPort[],
  roomEnv: RoomEnvironment,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of inheritedVariables) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  for (const variable of container.environment) {
    const fromField = variable.valueFrom?.fieldRef ? fieldValue(variable.valueFrom.fieldRef.fieldPath) : undefined;
    env[variable.name] = fromField ? fromField(id) : (variable.value ?? "");
  }
  // Maestro's example rooms read ROOMS_API_ADDRESS; a scheduler that sets it itself wins.
  if (!container.environment.some((v) => v.name === "ROOMS_API_ADDRESS")) env.ROOMS_API_ADDRESS = roomEnv.roomsApiUrl;
  env.MAESTRO_SCHEDULER_NAME = id.schedulerName;
  env.MAESTRO_ROOM_ID = id.roomId;
  env.MAESTRO_ROOMS_API_URL = roomEnv.roomsApiUrl;
  env.MAESTRO_ROOM_TOKEN = roomEnv.roomToken;
  for (const port of ports) env[portVariableName(port.name)] = String(port.hostPort);
  return env;
}
