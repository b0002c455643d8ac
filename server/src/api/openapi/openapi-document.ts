/** The subset of OpenAPI 3.1.0 that buildOpenApi emits, typed so the management API and tests can read it. */
export interface OpenApiDocument {
  openapi: "3.1.0";
  info: OpenApiInfo;
  tags: OpenApiTag[];
  paths: Record<string, PathItem>;
  components: {
    schemas: Record<string, SchemaObject>;
    responses: Record<string, ResponseObject>;
    securitySchemes: Record<string, SecuritySchemeObject>;
  };
  /** Every operation takes a bearer token (alternatives in the array; scopes unused). */
  security: Record<string, string[]>[];
}

export interface SecuritySchemeObject {
  type: "http";
  scheme: "bearer";
  description?: string;
}

export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
}

export interface OpenApiTag {
  name: string;
  description?: string;
}

export type HttpVerb = "get" | "put" | "post" | "delete" | "patch";

export type PathItem = Partial<Record<HttpVerb, OperationObject>>;

export interface OperationObject {
  operationId: string;
  tags: string[];
  summary: string;
  description?: string;
  deprecated?: boolean;
  parameters: ParameterObject[];
  requestBody?: RequestBodyObject;
  responses: Record<string, ResponseObject | RefObject>;
}

export interface ParameterObject {
  name: string;
  in: "path" | "query";
  required: boolean;
  description?: string;
  deprecated?: boolean;
  schema: SchemaObject;
}

export interface RequestBodyObject {
  required: boolean;
  content: Record<string, MediaTypeObject>;
}

export interface ResponseObject {
  description: string;
  content?: Record<string, MediaTypeObject>;
}

export interface MediaTypeObject {
  schema: SchemaObject;
}

export interface RefObject {
  $ref: string;
}

/** A JSON Schema (2020-12 dialect, as OpenAPI 3.1 uses it); `{}` accepts any value. */
export interface SchemaObject {
  $ref?: string;
  type?: SchemaType | SchemaType[];
  format?: string;
  title?: string;
  description?: string;
  enum?: (string | number | null)[];
  items?: SchemaObject;
  properties?: Record<string, SchemaObject>;
  additionalProperties?: SchemaObject | boolean;
  required?: string[];
  minimum?: number;
  maximum?: number;
  pattern?: string;
  examples?: unknown[];
  deprecated?: boolean;
}

export type SchemaType = "object" | "array" | "string" | "number" | "integer" | "boolean" | "null";
