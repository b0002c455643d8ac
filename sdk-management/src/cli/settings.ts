import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { UsageError } from "./usage-error.js";

export type OutputFormat = "table" | "wide" | "json" | "yaml";

export interface GlobalFlags {
  url?: string;
  roomsUrl?: string;
  token?: string;
  matchmakerToken?: string;
  profile?: string;
  output?: string;
}

export interface Settings {
  url: string;
  roomsUrl: string;
  token: string | undefined;
  /** Sent to the rooms API (allocate); the management token never is. */
  matchmakerToken: string | undefined;
  output: OutputFormat;
}

interface Profile {
  url?: string;
  token?: string;
  roomsUrl?: string;
  matchmakerToken?: string;
}

export const DEFAULT_URL = "http://127.0.0.1:8080";
export const DEFAULT_ROOMS_URL = "http://127.0.0.1:8070";

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  return join(base, "maestro", "config.yaml");
}

async function loadProfile(name: string, path: string): Promise<Profile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new UsageError(`profile "${name}" requested but ${path} cannot be read`);
  }
  const doc = parse(text) as { profiles?: Record<string, Profile> } | null;
  const profile = doc?.profiles?.[name];
  if (!profile || typeof profile !== "object") {
    const known = Object.keys(doc?.profiles ?? {}).join(", ") || "none";
    throw new UsageError(`profile "${name}" not found in ${path} (profiles: ${known})`);
  }
  return profile;
}

/**
 * Flags > profile > environment > defaults. A profile asked for explicitly (--profile or MAESTRO_PROFILE) wins over
 * MAESTRO_URL/MAESTRO_TOKEN so that switching clusters cannot silently keep another cluster's token.
 */
export async function resolveSettings(flags: GlobalFlags, env: NodeJS.ProcessEnv = process.env): Promise<Settings> {
  const profileName = flags.profile ?? env.MAESTRO_PROFILE;
  const profile = profileName ? await loadProfile(profileName, configPath(env)) : {};
  const output = flags.output ?? "table";
  if (output !== "table" && output !== "wide" && output !== "json" && output !== "yaml") {
    throw new UsageError(`--output must be table, wide, json or yaml (got "${output}")`);
  }
  return {
    url: flags.url ?? profile.url ?? env.MAESTRO_URL ?? DEFAULT_URL,
    roomsUrl: flags.roomsUrl ?? profile.roomsUrl ?? env.MAESTRO_ROOMS_URL ?? DEFAULT_ROOMS_URL,
    token: flags.token ?? profile.token ?? (env.MAESTRO_TOKEN || undefined),
    matchmakerToken: flags.matchmakerToken ?? profile.matchmakerToken ?? (env.MAESTRO_MATCHMAKER_TOKEN || undefined),
    output,
  };
}
