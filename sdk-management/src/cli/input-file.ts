import { readFile } from "node:fs/promises";
import { parse } from "yaml";
import { UsageError } from "./usage-error.js";

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString("utf8");
}

/** Reads a YAML or JSON document (JSON is YAML) from a file, or from stdin when `path` is "-". */
export async function readDocument(path: string): Promise<unknown> {
  let text: string;
  try {
    text = path === "-" ? await readStdin() : await readFile(path, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    const doc: unknown = parse(text);
    if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
      throw new Error("expected a mapping (an object) at the top level");
    }
    return doc;
  } catch (err) {
    throw new UsageError(`${path === "-" ? "stdin" : path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
