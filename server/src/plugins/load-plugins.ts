import { createRequire } from "node:module";
import { isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { MaestroError } from "../core/errors.js";
import type { Logger } from "../core/ports/logger.js";
import type { MaestroPlugin, PluginRegistry } from "./plugin-registry.js";

/**
 * Maestro's own forwarder type, loaded whenever it is installed so that schedulers written for Maestro work as they
 * are. It is a separate package (not a dependency of the server) because plugins depend on the server's plugin API.
 */
export const DEFAULT_PLUGINS: readonly { name: string; provides: string }[] = [
  { name: "@maestro/forwarder-grpc", provides: "gRPC" },
];

/**
 * Loads the plugins named in the `plugins` setting (a failure stops startup: a scheduler could name their types),
 * then each default plugin whose type nobody registered yet (a missing one is only a warning).
 */
export async function loadConfiguredPlugins(
  setting: string,
  registry: PluginRegistry,
  logger: Logger,
  cwd = process.cwd(),
): Promise<void> {
  await loadPlugins(pluginNames(setting), registry, cwd);
  for (const d of DEFAULT_PLUGINS) {
    if (registry.isForwarderType(d.provides)) continue;
    try {
      await loadPlugins([d.name], registry, cwd);
    } catch (err) {
      logger.warn(
        { err, plugin: d.name },
        `forwarder type ${d.provides} is unavailable: install ${d.name} (or build it) to forward events to Maestro matchmakers`,
      );
    }
  }
}

/** The comma-separated `plugins` setting as package names (or paths). */
export function pluginNames(setting: string): string[] {
  return setting
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/**
 * Imports each named package and registers what it exports as `maestroPlugin` (or by default). Names resolve from
 * the working directory first, so a deployment installs plugins next to its config rather than inside the server.
 */
export async function loadPlugins(
  names: readonly string[],
  registry: PluginRegistry,
  cwd = process.cwd(),
): Promise<void> {
  for (const name of names) {
    let mod: { maestroPlugin?: unknown; default?: unknown };
    try {
      mod = (await import(resolveSpecifier(name, cwd))) as typeof mod;
    } catch (err) {
      throw new MaestroError("invalid_argument", `plugin ${name} could not be loaded: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const plugin = (mod.maestroPlugin ?? mod.default) as MaestroPlugin | undefined;
    if (
      typeof plugin !== "object" ||
      plugin === null ||
      !(Array.isArray(plugin.forwarders) || Array.isArray(plugin.policies))
    ) {
      throw new MaestroError(
        "invalid_argument",
        `plugin ${name} exports neither maestroPlugin nor a default { forwarders?, policies? } object`,
      );
    }
    registry.register(plugin, plugin.name ?? name);
  }
}

function resolveSpecifier(name: string, cwd: string): string {
  if (name.startsWith(".") || isAbsolute(name)) return fileSpecifier(resolve(cwd, name));
  try {
    return fileSpecifier(createRequire(join(cwd, "noop.js")).resolve(name));
  } catch {
    // Not installed next to the config: let Node resolve it from the server's own dependencies.
    return name;
  }
}

// A plain absolute path is a valid import specifier on POSIX and lets test runners that transpile TypeScript load a
// plugin's source; Windows paths need a file: URL.
function fileSpecifier(path: string): string {
  return process.platform === "win32" ? pathToFileURL(path).href : path;
}
