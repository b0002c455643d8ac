import type { DescField, DescMessage, DescService } from "@bufbuild/protobuf";
import { MaestroError } from "../../core/errors.js";
import { type HttpBinding, httpBindings, openApiPath, pathShape, templateVariables } from "./http-bindings.js";
import type {
  OpenApiDocument,
  OpenApiInfo,
  OpenApiTag,
  OperationObject,
  ParameterObject,
  PathItem,
  RequestBodyObject,
  ResponseObject,
  SchemaObject,
} from "./openapi-document.js";
import { firstLine, leadingComment } from "./proto-comments.js";
import { SchemaCatalog } from "./schema-catalog.js";
import { scalarSchema } from "./well-known-schemas.js";

/** Component name of the error body (schema and response); message schemas never take it. */
export const ERROR_COMPONENT = "Error";

const JSON_TYPE = "application/json";

/**
 * The OpenAPI 3.1 document of the REST API, from the same google.api.http rules the REST transcoder routes by.
 *
 * Paths keep the proto's URL templates, except that OpenAPI forbids two templated paths differing only in variable
 * names: a later "/schedulers/{name}" is listed under the first one seen, "/schedulers/{scheduler_name}", and its
 * parameter says which request field it fills.
 */
export function buildOpenApi(services: readonly DescService[], info: OpenApiInfo): OpenApiDocument {
  const bindings = httpBindings(services);
  const catalog = new SchemaCatalog(
    bindings.map((b) => b.method.input),
    bindings.map((b) => b.method.output),
    [ERROR_COMPONENT],
  );
  const paths: Record<string, PathItem> = {};
  const variablesByShape = new Map<string, string[]>();
  for (const binding of bindings) {
    const shape = pathShape(binding.template);
    const own = templateVariables(binding.template);
    const names = variablesByShape.get(shape) ?? own;
    variablesByShape.set(shape, names);
    const path = openApiPath(binding.template, names);
    const item = paths[path] ?? {};
    paths[path] = item;
    if (item[binding.verb]) {
      throw new MaestroError(
        "invalid_argument",
        `${binding.method.parent.typeName}.${binding.method.name}: ${binding.verb.toUpperCase()} ${path} is bound twice`,
      );
    }
    item[binding.verb] = operation(binding, own, names, catalog);
  }

  const tags: OpenApiTag[] = [];
  for (const service of services) {
    if (!bindings.some((b) => b.service === service)) continue;
    const description = leadingComment(service);
    tags.push(description ? { name: service.name, description } : { name: service.name });
  }

  const responses = { [ERROR_COMPONENT]: errorResponse() };
  const schemas = { ...catalog.schemas, [ERROR_COMPONENT]: errorSchema() };
  return {
    openapi: "3.1.0",
    info: { ...info },
    tags,
    paths,
    components: {
      schemas: referencedOnly(schemas, [paths, responses]),
      responses,
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          description:
            "Management API: a read or write token from managementApi.readTokens/writeTokens (not needed when none is configured, loopback only). Rooms API: the room's MAESTRO_ROOM_TOKEN.",
        },
      },
    },
    security: [{ bearer: [] }],
  };
}

/**
 * Drops the components nothing points to: requests read only from the path and query (GET, DELETE) or sent as an
 * inline body (path fields left out) would otherwise be listed without ever being used.
 */
function referencedOnly(
  schemas: Record<string, SchemaObject>,
  roots: readonly unknown[],
): Record<string, SchemaObject> {
  const prefix = "#/components/schemas/";
  const used = new Set<string>();
  const pending = [...roots];
  while (pending.length) {
    const node = pending.pop();
    if (Array.isArray(node)) pending.push(...node);
    else if (typeof node === "object" && node !== null) {
      for (const [key, value] of Object.entries(node)) {
        if (key === "$ref" && typeof value === "string" && value.startsWith(prefix)) {
          const name = value.slice(prefix.length);
          if (!used.has(name)) {
            used.add(name);
            pending.push(schemas[name]);
          }
        } else pending.push(value);
      }
    }
  }
  return Object.fromEntries(Object.entries(schemas).filter(([name]) => used.has(name)));
}

function operation(
  binding: HttpBinding,
  fieldPaths: readonly string[],
  names: readonly string[],
  catalog: SchemaCatalog,
): OperationObject {
  const { method } = binding;
  const input = method.input;
  const parameters: ParameterObject[] = [];
  const pathFields = new Set<string>();
  fieldPaths.forEach((fieldPath, i) => {
    pathFields.add(fieldPath.split(".")[0] ?? fieldPath);
    const name = names[i] ?? fieldPath;
    const field = resolveField(input, fieldPath);
    const notes = [name === fieldPath ? undefined : `Request field \`${fieldPath}\`.`, field && leadingComment(field)];
    parameters.push(parameter(name, "path", field, notes, catalog));
  });

  let requestBody: RequestBodyObject | undefined;
  if (binding.body === "*") {
    const schema = pathFields.size ? catalog.bodySchema(input, pathFields) : catalog.ref(input);
    requestBody = { required: false, content: { [JSON_TYPE]: { schema } } };
  } else {
    const bodyField = binding.body ? input.fields.find((f) => f.name === binding.body) : undefined;
    if (bodyField) {
      requestBody = { required: false, content: { [JSON_TYPE]: { schema: catalog.fieldSchema(bodyField) } } };
    }
    // Only scalars fit a query string (the transcoder reads one value per key).
    for (const field of input.fields) {
      if (pathFields.has(field.name) || field === bodyField) continue;
      if (field.fieldKind !== "scalar" && field.fieldKind !== "enum") continue;
      parameters.push(parameter(field.name, "query", field, [leadingComment(field)], catalog));
    }
  }

  const comment = leadingComment(method);
  const op: OperationObject = {
    operationId: `${binding.service.name}_${method.name}`,
    tags: [binding.service.name],
    summary: comment ? firstLine(comment) : method.name,
    parameters,
    responses: {
      "200": {
        description: leadingComment(method.output) ?? `${method.output.name}.`,
        content: { [JSON_TYPE]: { schema: catalog.ref(method.output) } },
      },
      default: { $ref: `#/components/responses/${ERROR_COMPONENT}` },
    },
  };
  if (comment && comment !== op.summary) op.description = comment;
  if (method.deprecated) op.deprecated = true;
  if (requestBody) op.requestBody = requestBody;
  return op;
}

function parameter(
  name: string,
  where: "path" | "query",
  field: DescField | undefined,
  notes: readonly (string | undefined)[],
  catalog: SchemaCatalog,
): ParameterObject {
  let schema: SchemaObject = { type: "string" };
  if (field?.fieldKind === "scalar") schema = scalarSchema(field.scalar);
  else if (field?.fieldKind === "enum") schema = catalog.ref(field.enum);
  const p: ParameterObject = { name, in: where, required: where === "path", schema };
  const description = notes.filter(Boolean).join(" ");
  if (description) p.description = description;
  if (field?.deprecated) p.deprecated = true;
  return p;
}

/** A (possibly nested, "a.b") field of a request, by proto or JSON name, as the transcoder's decoder finds it. */
function resolveField(message: DescMessage, fieldPath: string): DescField | undefined {
  let current: DescMessage | undefined = message;
  let field: DescField | undefined;
  for (const segment of fieldPath.split(".")) {
    field = current?.fields.find((f) => f.name === segment || f.jsonName === segment);
    if (!field) return undefined;
    current = field.fieldKind === "message" ? field.message : undefined;
  }
  return field;
}

function errorSchema(): SchemaObject {
  return {
    type: "object",
    description: "Error body of every REST route (as Maestro's grpc-gateway wrote it).",
    properties: {
      code: {
        type: "integer",
        format: "int32",
        description: "gRPC status code, e.g. 3 invalid argument, 5 not found, 9 failed precondition.",
      },
      message: { type: "string" },
      details: { type: "array", items: { type: "object" } },
    },
    required: ["code", "message", "details"],
  };
}

function errorResponse(): ResponseObject {
  return {
    description: "Error: 400 invalid argument or failed precondition, 401, 404 not found, 409 conflict, 5xx.",
    content: { [JSON_TYPE]: { schema: { $ref: `#/components/schemas/${ERROR_COMPONENT}` } } },
  };
}
