/**
 * The surface plugin packages (forwarders, autoscaling policies) may import. A plugin package exports
 * `maestroPlugin` (or a default export) of type `MaestroPlugin` and is named in the server's `plugins` setting.
 */

export {
  type AutoscalingPolicyImpl as AutoscalingPolicy,
  type RoomsSnapshot,
  roomsSnapshot,
} from "./core/autoscaling/policy.js";
export type { GameRoom, Instance } from "./core/entities/game-room.js";
export type {
  AutoscalingPolicy as AutoscalingPolicyConfig,
  Forwarder,
  Scheduler,
} from "./core/entities/scheduler.js";
export { type ErrorCode, isMaestroError, MaestroError } from "./core/errors.js";
export type { CallOptions } from "./core/ports/call-options.js";
export {
  type ForwardCallOptions,
  type ForwardedRoom,
  type ForwardedRoomStatus,
  type ForwarderClient,
  type ForwarderContext,
  type ForwarderPlugin,
  forwardedRoomStatuses,
  type PlayerEventMessage,
  type PlayerEventType,
  playerEventTypes,
  type RoomEventMessage,
  type RoomStatusMessage,
} from "./core/ports/event-forwarder.js";
export type { ForwardingStats, ForwardOutcome } from "./core/ports/forwarding-stats.js";
export type { Logger } from "./core/ports/logger.js";
export type { MaestroPlugin } from "./plugins/plugin-registry.js";

/** Identity helper that type-checks a plugin object. */
export function definePlugin<P extends import("./plugins/plugin-registry.js").MaestroPlugin>(plugin: P): P {
  return plugin;
}
