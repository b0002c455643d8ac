import { MaestroRoomError } from "./errors.js";
import type { MaestroRoomConfig } from "./options.js";

const PORT_PREFIX = "MAESTRO_PORT_";

type EnvConfig = Pick<MaestroRoomConfig, "roomsApiUrl" | "schedulerName" | "roomId" | "token" | "ports">;

/** Reads the variables Maestro sets on every room. Throws `invalid_config` naming the first missing one. */
export function configFromEnv(env: NodeJS.ProcessEnv): EnvConfig {
  const roomsApiUrl = nonEmpty(env["MAESTRO_ROOMS_API_URL"]) ?? nonEmpty(env["ROOMS_API_ADDRESS"]);
  if (roomsApiUrl === undefined) throw missing("MAESTRO_ROOMS_API_URL (or ROOMS_API_ADDRESS)");
  const schedulerName = nonEmpty(env["MAESTRO_SCHEDULER_NAME"]);
  if (schedulerName === undefined) throw missing("MAESTRO_SCHEDULER_NAME");
  const roomId = nonEmpty(env["MAESTRO_ROOM_ID"]);
  if (roomId === undefined) throw missing("MAESTRO_ROOM_ID");
  return {
    // v9 set ROOMS_API_ADDRESS as host:port without a scheme.
    roomsApiUrl: /^[a-z][a-z0-9+.-]*:\/\//i.test(roomsApiUrl) ? roomsApiUrl : `http://${roomsApiUrl}`,
    schedulerName,
    roomId,
    token: nonEmpty(env["MAESTRO_ROOM_TOKEN"]),
    ports: portsFromEnv(env),
  };
}

function portsFromEnv(env: NodeJS.ProcessEnv): Record<string, number> {
  const ports: Record<string, number> = {};
  for (const [key, raw] of Object.entries(env)) {
    if (!key.startsWith(PORT_PREFIX) || key.length === PORT_PREFIX.length) continue;
    const port = Number(raw);
    if (!Number.isInteger(port) || port < 1 || port > 65_535) {
      throw new MaestroRoomError(
        "invalid_config",
        `${key} must be a port number (1-65535), got ${JSON.stringify(raw)}`,
      );
    }
    ports[key.slice(PORT_PREFIX.length).toLowerCase()] = port;
  }
  return ports;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function missing(name: string): MaestroRoomError {
  return new MaestroRoomError("invalid_config", `environment variable ${name} is not set`);
}
