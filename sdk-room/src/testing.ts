export {
  type FailOptions,
  type FakeRoomsApi,
  type FakeRoomsApiOptions,
  type RecordedBody,
  type RecordedRequest,
  type RoomsApiRequestKind,
  startFakeRoomsApi,
  type WaitForOptions,
} from "./fake-rooms-api.js";
export { type EventuallyOptions, eventually, freePort, type NodeProcess, spawnNode } from "./node-process.js";
