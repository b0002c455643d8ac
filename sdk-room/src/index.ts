export {
  isMaestroRoomError,
  MAESTRO_ROOM_ERROR_CODES,
  MaestroRoomError,
  type MaestroRoomErrorCode,
  type MaestroRoomErrorOptions,
} from "./errors.js";
export { createMaestroRoom, MaestroRoom, type RoomLifecycle } from "./maestro-room.js";
export {
  type CallOptions,
  type ErrorContext,
  type ErrorHandler,
  type FromEnvOptions,
  type MaestroRoomConfig,
  type MaestroRoomOptions,
  type Metadata,
  ROOM_STATUSES,
  type RoomStatus,
  type StatusOptions,
  type TerminationContext,
  type TerminationHook,
} from "./options.js";
