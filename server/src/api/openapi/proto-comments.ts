import type { DescEnum, DescField, DescFile, DescMessage, DescMethod, DescService } from "@bufbuild/protobuf";

type Commented = DescService | DescMethod | DescMessage | DescField | DescEnum;

// Field numbers of the repeated members in descriptor.proto, which make up SourceCodeInfo location paths.
const FILE_MESSAGE = 4;
const FILE_ENUM = 5;
const FILE_SERVICE = 6;
const MESSAGE_FIELD = 2;
const MESSAGE_NESTED = 3;
const MESSAGE_ENUM = 4;
const SERVICE_METHOD = 2;

/**
 * The leading comment of an element, trimmed. Descriptors embedded by protoc-gen-es carry no source info (comments
 * live only in the generated TypeScript), so this is undefined for them; descriptors built from a
 * FileDescriptorSet with source info (buf build --as-file-descriptor-set) get their comments.
 */
export function leadingComment(desc: Commented): string | undefined {
  const file = fileOf(desc);
  const locations = file.proto.sourceCodeInfo?.location;
  if (!locations?.length) return undefined;
  const path = sourcePath(desc);
  if (!path) return undefined;
  const location = locations.find((l) => l.path.length === path.length && l.path.every((n, i) => n === path[i]));
  const text = location?.leadingComments
    ?.split("\n")
    .map((line) => line.replace(/^ /, "").trimEnd())
    .join("\n")
    .trim();
  return text ? text : undefined;
}

/** The first line of a comment: short enough for an OpenAPI summary. */
export function firstLine(text: string): string {
  return text.split("\n", 1)[0] ?? text;
}

function fileOf(desc: Commented): DescFile {
  switch (desc.kind) {
    case "rpc":
      return desc.parent.file;
    case "field":
      return desc.parent.file;
    default:
      return desc.file;
  }
}

// Indices come from the raw protos: DescMessage.nestedMessages leaves out map entries, the proto arrays do not.
function sourcePath(desc: Commented): number[] | undefined {
  switch (desc.kind) {
    case "service":
      return indexed([FILE_SERVICE], desc.file.proto.service.indexOf(desc.proto));
    case "rpc": {
      const service = sourcePath(desc.parent);
      return service && indexed([...service, SERVICE_METHOD], desc.parent.proto.method.indexOf(desc.proto));
    }
    case "message": {
      if (!desc.parent) return indexed([FILE_MESSAGE], desc.file.proto.messageType.indexOf(desc.proto));
      const parent = sourcePath(desc.parent);
      return parent && indexed([...parent, MESSAGE_NESTED], desc.parent.proto.nestedType.indexOf(desc.proto));
    }
    case "enum": {
      if (!desc.parent) return indexed([FILE_ENUM], desc.file.proto.enumType.indexOf(desc.proto));
      const parent = sourcePath(desc.parent);
      return parent && indexed([...parent, MESSAGE_ENUM], desc.parent.proto.enumType.indexOf(desc.proto));
    }
    case "field": {
      const parent = sourcePath(desc.parent);
      return parent && indexed([...parent, MESSAGE_FIELD], desc.parent.proto.field.indexOf(desc.proto));
    }
  }
}

function indexed(prefix: number[], index: number): number[] | undefined {
  return index < 0 ? undefined : [...prefix, index];
}
