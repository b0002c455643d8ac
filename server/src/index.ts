export { loadConfig, describeSettings } from "./config/load-config.js";
export type { MaestroConfig } from "./config/schema.js";
export { MaestroError, isMaestroError, errorCodes, type ErrorCode, type FieldViolation } from "./core/errors.js";
export { startMaestro, type RunningMaestro } from "./server.js";
export { createLogger } from "./logging.js";
export type * from "./core/entities/scheduler.js";
export type * from "./core/entities/game-room.js";
export type * from "./core/entities/operation.js";
