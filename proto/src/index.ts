// The Maestro API contract (package maestro.v1) plus the google.api.http extension the REST layer reads at run time.
export * from "../gen/google/api/annotations_pb.js";
export * from "../gen/google/api/http_pb.js";
export * from "../gen/maestro/v1/game_rooms_pb.js";
export * from "../gen/maestro/v1/messages_pb.js";
export * from "../gen/maestro/v1/operations_pb.js";
export * from "../gen/maestro/v1/rooms_pb.js";
export * from "../gen/maestro/v1/schedulers_pb.js";
export * from "./unknown-fields.js";
