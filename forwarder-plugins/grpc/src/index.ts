import type { MaestroPlugin } from "@maestro/server/plugin";
import { grpcForwarderPlugin } from "./grpc-forwarder.js";

export { GRPC_FORWARDER_TYPE, type GrpcForwarderOptions, grpcForwarderPlugin } from "./grpc-forwarder.js";
export { responseCodeName } from "./response-code.js";

/** Loaded by Maestro from the `plugins` setting (and by default when installed). */
export const maestroPlugin: MaestroPlugin = {
  name: "@maestro/forwarder-grpc",
  forwarders: [grpcForwarderPlugin()],
};

export default maestroPlugin;
