import { readFileSync } from "node:fs";
import type { Cluster, Redis } from "ioredis";
import { MaestroError } from "../../../core/errors.js";

// Next to this module in src/, and next to the bundled dist/*.js where the build copies scripts/*.lua.
const scriptsDir = new URL("./scripts/", import.meta.url);

const sources = new Map<string, string>();

/**
 * The text of `scripts/<name>.lua`, read once per process. A line `-- #include <other>` is replaced by the text of
 * `scripts/<other>.lua`: Redis scripts cannot call each other, and shared checks (the lease fence) must not drift apart.
 */
export function luaSource(name: string): string {
  let source = sources.get(name);
  if (source === undefined) {
    source = readScript(name).replace(/^-- #include ([\w-]+)$/gm, (_line, other: string) => readScript(other));
    sources.set(name, source);
  }
  return source;
}

function readScript(name: string): string {
  try {
    return readFileSync(new URL(`${name}.lua`, scriptsDir), "utf8");
  } catch (e) {
    throw new MaestroError("internal", `redis script ${name}.lua not found next to ${import.meta.url}`, { cause: e });
  }
}

/** What runs for `scripts/<name>.lua`: its libs' text, then its own. */
export function scriptText(name: string, libs: readonly string[] = []): string {
  return [...libs, name].map((script) => luaSource(script)).join("\n");
}

/** Runs one Lua script with its keys (KEYS) and arguments (ARGV). */
export type LuaScript = (keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown>;

type DynamicCommand = (numberOfKeys: number, ...keysAndArgs: (string | number)[]) => Promise<unknown>;

/**
 * Registers `scripts/<name>.lua` on the client with defineCommand (EVALSHA, falling back to EVAL once after a script
 * flush or restart) and returns a typed caller. The key count is given per call, so scripts take variable key lists.
 * `libs` are scripts whose text goes first (shared functions; Redis has no include).
 */
export function defineLuaScript(client: Redis | Cluster, name: string, libs: readonly string[] = []): LuaScript {
  const command = `maestro_${name.replaceAll("-", "_")}`;
  const registry = client as unknown as Record<string, DynamicCommand | undefined>;
  if (registry[command] === undefined) {
    client.defineCommand(command, { lua: scriptText(name, libs) });
  }
  const run = registry[command] as DynamicCommand;
  return (keys, args) => run.call(client, keys.length, ...keys, ...args);
}
