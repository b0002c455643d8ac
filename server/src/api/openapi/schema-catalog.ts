import type { DescEnum, DescField, DescMessage } from "@bufbuild/protobuf";
import { FeatureSet_FieldPresence } from "@bufbuild/protobuf/wkt";
import type { SchemaObject } from "./openapi-document.js";
import { leadingComment } from "./proto-comments.js";
import { scalarSchema, wellKnownSchema } from "./well-known-schemas.js";

type NamedType = DescMessage | DescEnum;

/**
 * The components.schemas of a document: one schema per message or enum reachable from the methods' inputs and
 * outputs, in the ProtoJSON mapping (camelCase json names). Well-known types are inlined instead.
 */
export class SchemaCatalog {
  readonly schemas: Record<string, SchemaObject> = {};
  private readonly names = new Map<string, string>();

  /** `reservedNames` are component names used by the document for something else (the error body). */
  constructor(inputs: readonly DescMessage[], outputs: readonly DescMessage[], reservedNames: readonly string[]) {
    const requestTypes = new Map<string, NamedType>();
    for (const m of inputs) collect(m, requestTypes);
    const all = new Map(requestTypes);
    for (const m of outputs) collect(m, all);

    const shortNames = new Map<string, number>(reservedNames.map((n) => [n, 1]));
    for (const t of all.values()) shortNames.set(shortName(t), (shortNames.get(shortName(t)) ?? 0) + 1);
    // Short names read best in generated clients; the full name only disambiguates types of different packages.
    for (const t of all.values()) {
      this.names.set(t.typeName, shortNames.get(shortName(t)) === 1 ? shortName(t) : t.typeName);
    }

    const ordered = [...all.values()].sort((a, b) => this.nameOf(a).localeCompare(this.nameOf(b)));
    for (const t of ordered) {
      this.schemas[this.nameOf(t)] =
        t.kind === "enum" ? enumSchema(t) : this.messageSchema(t, { responseOnly: !requestTypes.has(t.typeName) });
    }
  }

  /** A reference to a message or enum: `$ref` to its component, or the inline schema of a well-known type. */
  ref(t: NamedType): SchemaObject {
    return wellKnownSchema(t.typeName) ?? { $ref: `#/components/schemas/${this.nameOf(t)}` };
  }

  /** An inline request body: the request message without the fields bound to the URL path. */
  bodySchema(message: DescMessage, omit: ReadonlySet<string>): SchemaObject {
    const schema = this.messageSchema(message, { responseOnly: false, omit });
    schema.title = this.nameOf(message);
    return schema;
  }

  fieldSchema(field: DescField): SchemaObject {
    const schema = this.valueSchema(field);
    const description = leadingComment(field);
    if (description && !schema.description) schema.description = description;
    if (field.deprecated) schema.deprecated = true;
    return schema;
  }

  private valueSchema(field: DescField): SchemaObject {
    switch (field.fieldKind) {
      case "scalar":
        return scalarSchema(field.scalar);
      case "enum":
        return this.ref(field.enum);
      case "message":
        return isLenientDuration(field) ? lenientDuration() : this.ref(field.message);
      case "list":
        return {
          type: "array",
          items:
            field.listKind === "scalar"
              ? scalarSchema(field.scalar)
              : this.ref(field.listKind === "enum" ? field.enum : field.message),
        };
      case "map":
        return {
          type: "object",
          additionalProperties:
            field.mapKind === "scalar"
              ? scalarSchema(field.scalar)
              : this.ref(field.mapKind === "enum" ? field.enum : field.message),
        };
    }
  }

  /**
   * The REST layer writes responses with alwaysEmitImplicit, so in messages only ever sent back, fields without
   * explicit presence are always there and listed as required. Messages that are (also) read from requests list
   * none: ProtoJSON decoding accepts any field missing.
   */
  private messageSchema(
    message: DescMessage,
    opts: { responseOnly: boolean; omit?: ReadonlySet<string> },
  ): SchemaObject {
    const properties: Record<string, SchemaObject> = {};
    const required: string[] = [];
    for (const field of message.fields) {
      if (opts.omit?.has(field.name)) continue;
      properties[field.jsonName] = this.fieldSchema(field);
      if (opts.responseOnly && field.presence !== FeatureSet_FieldPresence.EXPLICIT) required.push(field.jsonName);
    }
    const schema: SchemaObject = { type: "object", properties };
    if (required.length) schema.required = required;
    const description = leadingComment(message);
    if (description) schema.description = description;
    if (message.deprecated) schema.deprecated = true;
    return schema;
  }

  private nameOf(t: NamedType): string {
    return this.names.get(t.typeName) ?? t.typeName;
  }
}

function collect(t: NamedType, into: Map<string, NamedType>): void {
  if (into.has(t.typeName) || wellKnownSchema(t.typeName)) return;
  into.set(t.typeName, t);
  if (t.kind === "enum") return;
  for (const field of t.fields) {
    const ref = field.message ?? field.enum;
    if (ref) collect(ref, into);
  }
}

/** The type name without its package: "Scheduler", or "Outer.Inner" for nested types. */
function shortName(t: NamedType): string {
  const pkg = t.file.proto.package;
  return pkg ? t.typeName.slice(pkg.length + 1) : t.typeName;
}

function enumSchema(e: DescEnum): SchemaObject {
  const schema: SchemaObject = { type: "string", enum: e.values.map((v) => v.name) };
  const description = leadingComment(e);
  if (description) schema.description = description;
  if (e.deprecated) schema.deprecated = true;
  return schema;
}

// Maestro clients send terminationGracePeriod as "100s", "100" or 100; rest/json-input.ts accepts all three.
function isLenientDuration(field: DescField): boolean {
  return field.jsonName === "terminationGracePeriod" && field.message?.typeName === "google.protobuf.Duration";
}

function lenientDuration(): SchemaObject {
  return {
    type: ["string", "number"],
    pattern: "^-?\\d+(\\.\\d{1,9})?s?$",
    description: 'A duration: "100s", or seconds as "100" or 100. Responses use the "100s" form.',
    examples: ["100s"],
  };
}
