/** What both entries (Node `index.ts`, browser `web.ts`) export of the client: each adds its own createMaestroClient. */
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
export type { RoomChange } from "./polling.js";
