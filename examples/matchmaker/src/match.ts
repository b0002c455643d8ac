import type { MaestroClient } from "@maestro/sdk-management";
import { playRound, type RoundResult } from "./game-client.js";

export interface MatchOptions {
  client: MaestroClient;
  scheduler: string;
  /** Which of the room's ports players connect to. @defaultValue "game" */
  portName?: string;
  lines: readonly string[];
  holdMs?: number;
  endHold?: AbortSignal;
  signal?: AbortSignal;
  log?: (message: string) => void;
}

export interface MatchResult {
  room: { id: string; host: string; port: number };
  round: RoundResult;
}

/** What a matchmaker does for one match: asks Maestro for a ready room, sends the players there, plays. */
export async function allocateAndPlay(options: MatchOptions): Promise<MatchResult> {
  const log = options.log ?? (() => {});
  const allocation = await options.client.allocateRoom(options.scheduler, {}, { signal: options.signal });
  if (!allocation.success) {
    throw new Error(`no room allocated for ${options.scheduler}: ${allocation.message || "no ready room"}`);
  }
  const portName = options.portName ?? "game";
  const port =
    allocation.ports.find((p) => p.name === portName) ??
    allocation.ports.find((p) => p.protocol.toLowerCase() === "tcp");
  if (!port) {
    const known = allocation.ports.map((p) => `${p.name}/${p.protocol}`).join(", ") || "none";
    throw new Error(`room ${allocation.roomId} has no port named ${portName} nor any tcp port (ports: ${known})`);
  }
  const room = { id: allocation.roomId, host: allocation.host || "127.0.0.1", port: port.port };
  log(`allocated room ${room.id} at ${room.host}:${room.port} (port ${port.name}/${port.protocol})`);
  const round = await playRound({
    host: room.host,
    port: room.port,
    lines: options.lines,
    holdMs: options.holdMs,
    endHold: options.endHold,
    signal: options.signal,
    log,
  });
  return { room, round };
}
