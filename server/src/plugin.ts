/** The surface plugin packages (forwarders, autoscaling policies) may import. */

export type { GameRoom, Instance } from "./core/entities/game-room.js";
export type { Forwarder, Scheduler } from "./core/entities/scheduler.js";
export { type ErrorCode, isMaestroError, MaestroError } from "./core/errors.js";
export type { CallOptions } from "./core/ports/call-options.js";
export type { Logger } from "./core/ports/logger.js";
