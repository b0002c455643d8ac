export type {
  AllocateRoomResponse,
  CreateSchedulerRequest,
  GameRoom,
  ListOperationItem,
  ListOperationsResponse,
  Operation,
  Scheduler,
  SchedulerInfo,
  SchedulerVersion,
  SchedulerWithoutSpec,
} from "@maestro/proto";
export type {
  CallOptions,
  MaestroClient,
  MaestroClientOptions,
  OperationStage,
  OperationsApi,
  RoomsApi,
  SchedulerDefinition,
  SchedulerPatch,
  SchedulersApi,
  WaitForOperationOptions,
} from "./client.js";
export {
  type ClientErrorCode,
  clientErrorCodes,
  isMaestroClientError,
  MaestroClientError,
  type MaestroClientErrorOptions,
} from "./errors.js";
export { createMaestroClient } from "./node-client.js";
export type { RoomChange } from "./polling.js";
export { newVersionFromScheduler, normalizeDurations, patchFromJson, schedulerFromJson } from "./scheduler-json.js";
export {
  convertV9Scheduler,
  isV9Scheduler,
  V9_DEFAULT_PORT_RANGE,
  type V9Conversion,
  type V9ConvertOptions,
} from "./v9-convert.js";
