export type * from "./call-options.js";
export * from "./clock.js";
export * from "./logger.js";
export type * from "./operation-storage.js";
export type * from "./port-allocator.js";
export type * from "./room-storage.js";
export type * from "./room-token.js";
export type * from "./runtime.js";
export type * from "./scheduler-storage.js";
