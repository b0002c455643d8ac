export { ProcessRuntime, type ProcessRuntimeOptions } from "./process-runtime.js";
export { portVariableName } from "./room-env.js";
