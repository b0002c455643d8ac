// Maestro's event forwarder contract (package eventforwarder). A separate entry point keeps its generic names (Room,
// Response, RoomEvent...) out of the maestro.v1 namespace that most users import.
export * from "../gen/eventforwarder/events_pb.js";
