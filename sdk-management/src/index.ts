export * from "./client-exports.js";
export { createMaestroClient } from "./node-client.js";
export { newVersionFromScheduler, normalizeDurations, patchFromJson, schedulerFromJson } from "./scheduler-json.js";
export {
  convertV9Scheduler,
  isV9Scheduler,
  V9_DEFAULT_PORT_RANGE,
  type V9Conversion,
  type V9ConvertOptions,
} from "./v9-convert.js";
