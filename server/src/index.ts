export { describeSettings, loadConfig } from "./config/load-config.js";
export type { MaestroConfig } from "./config/schema.js";
export type * from "./core/entities/game-room.js";
export type * from "./core/entities/operation.js";
export type * from "./core/entities/scheduler.js";
export { type ErrorCode, errorCodes, type FieldViolation, isMaestroError, MaestroError } from "./core/errors.js";
export { createLogger } from "./logging.js";
export { type RunningMaestro, startMaestro } from "./server.js";
