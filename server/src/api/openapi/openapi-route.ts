import type { FastifyInstance } from "fastify";
import type { OpenApiDocument } from "./openapi-document.js";

/** Where the management API serves its OpenAPI document; stable, tools and docs link to it. */
export const OPENAPI_PATH = "/openapi.json";

/** Serves the document at GET /openapi.json, serialized once since it never changes while the server runs. */
export function registerOpenApiRoute(app: FastifyInstance, doc: OpenApiDocument): void {
  const body = JSON.stringify(doc);
  app.get(OPENAPI_PATH, (_req, reply) => reply.code(200).type("application/json; charset=utf-8").send(body));
}
