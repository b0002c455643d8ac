import { ScalarType } from "@bufbuild/protobuf";
import type { SchemaObject } from "./openapi-document.js";

/** The ProtoJSON form of a scalar: 64-bit integers are strings, bytes are base64. */
export function scalarSchema(scalar: ScalarType): SchemaObject {
  switch (scalar) {
    case ScalarType.DOUBLE:
      return { type: "number", format: "double" };
    case ScalarType.FLOAT:
      return { type: "number", format: "float" };
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return { type: "integer", format: "int32" };
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return { type: "integer", format: "uint32", minimum: 0 };
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return { type: "string", format: "int64" };
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return { type: "string", format: "uint64" };
    case ScalarType.BOOL:
      return { type: "boolean" };
    case ScalarType.STRING:
      return { type: "string" };
    case ScalarType.BYTES:
      return { type: "string", format: "byte" };
  }
}

const wrapped: Record<string, ScalarType> = {
  DoubleValue: ScalarType.DOUBLE,
  FloatValue: ScalarType.FLOAT,
  Int64Value: ScalarType.INT64,
  UInt64Value: ScalarType.UINT64,
  Int32Value: ScalarType.INT32,
  UInt32Value: ScalarType.UINT32,
  BoolValue: ScalarType.BOOL,
  StringValue: ScalarType.STRING,
  BytesValue: ScalarType.BYTES,
};

/**
 * Inline schemas of the google.protobuf types that ProtoJSON writes in a special form (not as an object of their
 * fields); undefined for any other type, which gets a component of its own.
 */
export function wellKnownSchema(typeName: string): SchemaObject | undefined {
  if (!typeName.startsWith("google.protobuf.")) return undefined;
  const name = typeName.slice("google.protobuf.".length);
  const scalar = wrapped[name];
  if (scalar !== undefined) return scalarSchema(scalar);
  switch (name) {
    case "Timestamp":
      return { type: "string", format: "date-time" };
    case "Duration":
      return {
        type: "string",
        pattern: "^-?\\d+(\\.\\d{1,9})?s$",
        description: 'Seconds with an "s" suffix.',
        examples: ["100s"],
      };
    case "Struct":
      return { type: "object", additionalProperties: true };
    case "Value":
      return {};
    case "ListValue":
      return { type: "array", items: {} };
    case "NullValue":
      return { type: "null" };
    case "Empty":
      return { type: "object" };
    case "FieldMask":
      return { type: "string", description: "Comma-separated camelCase field paths." };
    case "Any":
      return { type: "object", properties: { "@type": { type: "string" } }, required: ["@type"] };
    default:
      return undefined;
  }
}
