export { buildOpenApi, ERROR_COMPONENT } from "./build-openapi.js";
export type { OpenApiDocument, OpenApiInfo } from "./openapi-document.js";
export { OPENAPI_PATH, registerOpenApiRoute } from "./openapi-route.js";
