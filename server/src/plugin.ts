/** The surface plugin packages (forwarders, autoscaling policies) may import. */
export { MaestroError, isMaestroError, type ErrorCode } from "./core/errors.js";
export type { Scheduler, Forwarder } from "./core/entities/scheduler.js";
export type { GameRoom, Instance } from "./core/entities/game-room.js";
export type { Logger } from "./core/ports/logger.js";
export type { CallOptions } from "./core/ports/call-options.js";
