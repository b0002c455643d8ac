import type { Forwarder } from "../entities/scheduler.js";
import type { Logger } from "./logger.js";

/**
 * The room as a forwarder receives it (Maestro's `eventforwarder.Room`): every metadata value is a string, because
 * the wire format is `map<string, string>`.
 */
export interface ForwardedRoom {
  game: string;
  roomId: string;
  /** Address of the machine the room runs on; "" when unknown (a terminating room may have lost its instance). */
  host: string;
  /** The port named `clientPort`, else the first port; 0 when unknown. */
  port: number;
  metadata: Record<string, string>;
  /** The forwarder's `options.metadata.roomType` when it is a string, else "". */
  roomType: string;
}

export const forwardedRoomStatuses = ["ready", "occupied", "terminating", "terminated"] as const;
export type ForwardedRoomStatus = (typeof forwardedRoomStatuses)[number];

export const playerEventTypes = ["playerJoin", "playerLeft"] as const;
export type PlayerEventType = (typeof playerEventTypes)[number];

/** A room's status: sent as a resync on every ping and as a status on `/status` and termination. */
export interface RoomStatusMessage {
  room: ForwardedRoom;
  status: ForwardedRoomStatus;
}

/** An arbitrary event a room reported on `/roomevent`. */
export interface RoomEventMessage {
  room: ForwardedRoom;
  eventType: string;
}

/** A player joined or left (`/playerevent`). As in Maestro, the room carries only game and roomId. */
export interface PlayerEventMessage {
  playerId: string;
  room: Pick<ForwardedRoom, "game" | "roomId">;
  eventType: PlayerEventType;
  metadata: Record<string, string>;
}

export interface ForwardCallOptions {
  /** Aborted when the per-call timeout (`options.timeout` ms) passes or the caller gives up. */
  signal: AbortSignal;
  /**
   * Stable for one event across every forwarder and retry, so a receiver can drop duplicates (webhook idempotency
   * key).
   */
  eventId: string;
}

/**
 * One configured forwarder of a scheduler, ready to send. A method resolves when the receiver took the event, and
 * rejects on a transport failure (a receiver that answers with an error code still counts as delivered, as in
 * Maestro). It must honour `signal`.
 */
export interface ForwarderClient {
  roomResync(message: RoomStatusMessage, opts: ForwardCallOptions): Promise<void>;
  roomStatus(message: RoomStatusMessage, opts: ForwardCallOptions): Promise<void>;
  roomEvent(message: RoomEventMessage, opts: ForwardCallOptions): Promise<void>;
  playerEvent(message: PlayerEventMessage, opts: ForwardCallOptions): Promise<void>;
  /** Releases connections; called when the forwarder is no longer used. */
  close?(): Promise<void>;
}

export interface ForwarderContext {
  logger: Logger;
}

/** A forwarder type (`forwarders[].type`) a plugin provides. */
export interface ForwarderPlugin {
  /** The value of `forwarders[].type`, e.g. "gRPC" or "webhook". */
  readonly type: string;
  /**
   * Why `address` is not usable by this type, or undefined when it is. Checked at create/patch; without it the address
   * must be host:port.
   */
  checkAddress?(address: string): string | undefined;
  /** A client for one forwarder; called once per distinct configuration and reused for every event. */
  create(forwarder: Forwarder, ctx: ForwarderContext): ForwarderClient;
}

/** The forwarder types this process knows (plugins register theirs). */
export interface ForwarderCatalog {
  get(type: string): ForwarderPlugin | undefined;
}
