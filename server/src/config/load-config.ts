import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { MaestroError } from "../core/errors.js";
import { isSetting, type MaestroConfig, type SchemaTree, type Setting, schema } from "./schema.js";
import { workerTimingProblems } from "./worker-timings.js";

export interface ConfigSources {
  /** YAML file path; a missing file named explicitly is an error. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Values from command-line flags, by dotted path (`managementApi.port`). Highest precedence. */
  overrides?: Record<string, unknown>;
}

/**
 * The YAML parser, loaded only when a config file is given: deployments configure through MAESTRO_* variables, and a
 * parser held for nothing is close to a MiB of every process's heap (bench/RESULTS.md, session 7).
 */
function parseYaml(text: string): unknown {
  const { parse } = createRequire(import.meta.url)("yaml") as typeof import("yaml");
  return parse(text);
}

/** Defaults < YAML file < MAESTRO_* environment < flags. Every value is checked; all problems are reported at once. */
export function loadConfig(sources: ConfigSources = {}): MaestroConfig {
  const env = sources.env ?? process.env;
  let fileValues: Record<string, unknown> = {};
  if (sources.file) {
    let text: string;
    try {
      text = readFileSync(sources.file, "utf8");
    } catch (err) {
      throw new MaestroError("invalid_argument", `cannot read config file ${sources.file}: ${(err as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = parseYaml(text) ?? {};
    } catch (err) {
      throw new MaestroError(
        "invalid_argument",
        `config file ${sources.file} is not valid YAML: ${(err as Error).message}`,
      );
    }
    if (typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new MaestroError("invalid_argument", `config file ${sources.file} must hold a YAML mapping`);
    }
    fileValues = parsed as Record<string, unknown>;
  }
  const problems: string[] = [];
  const known = new Set<string>();
  const build = (tree: SchemaTree, path: string[], fromFile: unknown): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    const fileObj = (typeof fromFile === "object" && fromFile !== null ? fromFile : {}) as Record<string, unknown>;
    for (const [key, node] of Object.entries(tree)) {
      const p = [...path, key];
      const dotted = p.join(".");
      if (!isSetting(node)) {
        out[key] = build(node, p, fileObj[key]);
        continue;
      }
      known.add(dotted);
      const envName = `MAESTRO_${p.join("_").toUpperCase()}`;
      let value: unknown = node.default;
      let origin = "default";
      // `key:` with nothing after it reads as null in YAML: the setting keeps its default, as with viper.
      if (fileObj[key] != null) [value, origin] = [fileObj[key], `${sources.file}`];
      if (env[envName] !== undefined && env[envName] !== "") [value, origin] = [env[envName], envName];
      if (sources.overrides?.[dotted] !== undefined) [value, origin] = [sources.overrides[dotted], "command line"];
      const checked = coerce(node, value);
      if (typeof checked === "string" && checked.startsWith("\0")) {
        problems.push(`${dotted}: ${checked.slice(1)} (got ${JSON.stringify(value)} from ${origin})`);
      } else {
        out[key] = checked;
      }
    }
    return out;
  };
  const config = build(schema, [], fileValues) as MaestroConfig;
  for (const path of Object.keys(sources.overrides ?? {})) {
    if (!known.has(path)) problems.push(`${path}: unknown setting`);
  }
  collectUnknown(fileValues, schema, [], problems, `${sources.file}`);
  // Rules between settings only make sense once each setting is valid on its own.
  if (problems.length === 0) problems.push(...workerTimingProblems(config.workers));
  if (problems.length > 0) {
    throw new MaestroError("invalid_argument", `Invalid configuration:\n${problems.map((p) => `  ${p}`).join("\n")}`);
  }
  return config;
}

/** Returns the typed value, or a string starting with NUL describing the rule broken. */
function coerce(setting: Setting, raw: unknown): unknown {
  switch (setting.type) {
    case "int":
    case "number": {
      const n = typeof raw === "string" && raw.trim() !== "" ? Number(raw) : raw;
      if (typeof n !== "number" || Number.isNaN(n)) return "\0must be a number";
      if (setting.type === "int" && !Number.isInteger(n)) return "\0must be an integer";
      if (setting.min !== undefined && n < setting.min) return `\0must be at least ${setting.min}`;
      if (setting.max !== undefined && n > setting.max) return `\0must be at most ${setting.max}`;
      return n;
    }
    case "bool":
      if (typeof raw === "boolean") return raw;
      if (raw === "true" || raw === "1") return true;
      if (raw === "false" || raw === "0") return false;
      return "\0must be true or false";
    case "enum":
      return setting.values.includes(String(raw)) ? String(raw) : `\0must be one of ${setting.values.join(", ")}`;
    case "string":
      return typeof raw === "string" || typeof raw === "number" ? String(raw) : "\0must be a string";
  }
}

function collectUnknown(
  values: Record<string, unknown>,
  tree: SchemaTree,
  path: string[],
  problems: string[],
  fileName: string,
): void {
  for (const [key, value] of Object.entries(values)) {
    const node = tree[key];
    const dotted = [...path, key].join(".");
    if (!node) problems.push(`${dotted}: unknown setting in config file`);
    else if (isSetting(node)) continue;
    else if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      collectUnknown(value as Record<string, unknown>, node, [...path, key], problems, fileName);
    } else if (value !== null) {
      // Otherwise `managementApi: 9000` would be dropped without a word and the defaults used.
      problems.push(`${dotted}: must be a mapping of settings (got ${JSON.stringify(value)} from ${fileName})`);
    }
  }
}

/** Lines for `maestro config --help`-style listings: path, env name, default, help. */
export function describeSettings(tree: SchemaTree = schema, path: string[] = []): string[] {
  return Object.entries(tree).flatMap(([key, node]) => {
    const p = [...path, key];
    if (!isSetting(node)) return describeSettings(node, p);
    const extra = node.type === "enum" ? ` (${node.values.join("|")})` : "";
    return [
      `${p.join(".")}  [MAESTRO_${p.join("_").toUpperCase()}]  default ${JSON.stringify(node.default)}${extra}: ${node.help}`,
    ];
  });
}
