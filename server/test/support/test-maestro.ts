import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load-config.js";
import { silentLogger } from "../../src/core/ports/logger.js";
import { type RunningMaestro, startMaestro } from "../../src/server.js";

export interface TestMaestro extends RunningMaestro {
  managementUrl: string;
  roomsUrl: string;
  dataDir: string;
}

/**
 * A Maestro in this process on free ports: the embedded default (PGlite, memory, process runtime) and every module
 * unless `overrides` and `modules` say otherwise. stop() also removes its data directory.
 */
export async function startTestMaestro(
  overrides: Record<string, unknown> = {},
  modules: readonly string[] = ["all"],
): Promise<TestMaestro> {
  const dataDir = await mkdtemp(join(tmpdir(), "maestro-test-"));
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir,
      "managementApi.port": 0,
      "roomsApi.port": 0,
      "internalApi.port": 0,
      "workers.healthControllerIntervalMs": 500,
      "log.level": "warn",
      // A test stopping Maestro mid-operation should not wait for the production drain budget.
      "shutdown.drainTimeoutMs": 2_000,
      ...overrides,
    },
  });
  const running = await startMaestro(config, modules, silentLogger);
  return {
    ...running,
    managementUrl: running.urls.managementApi!,
    roomsUrl: running.urls.roomsApi!,
    dataDir,
    async stop() {
      await running.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls until `check` returns a value other than undefined/false, or fails with the last seen value. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value as T;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${opts.what ?? "condition"}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`,
      );
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}

export async function http(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: any }> {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

/** A Maestro create-scheduler body whose rooms are idle node processes that never ping. */
export function schedulerBody(name: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    game: "test-game",
    maxSurge: "10%",
    roomsReplicas: 0,
    portRange: { start: 30000, end: 39999 },
    spec: {
      terminationGracePeriod: "2s",
      containers: [
        {
          name: "room",
          image: "local",
          imagePullPolicy: "IfNotPresent",
          command: ["node", "-e", "setInterval(() => {}, 1000)"],
          requests: { memory: "64Mi", cpu: "100m" },
          limits: { memory: "128Mi", cpu: "200m" },
          ports: [{ name: "game", protocol: "tcp", port: 7000 }],
        },
      ],
    },
    ...overrides,
  };
}

/** A room command that pings "ready" with its token every 300 ms, as a healthy game server using the rooms API does. */
export const PINGING_ROOM = [
  "node",
  "-e",
  [
    "const e = process.env;",
    "const url = e.MAESTRO_ROOMS_API_URL + '/scheduler/' + e.MAESTRO_SCHEDULER_NAME + '/rooms/' + e.MAESTRO_ROOM_ID + '/ping';",
    "const headers = { 'content-type': 'application/json', authorization: 'Bearer ' + e.MAESTRO_ROOM_TOKEN };",
    "const ping = () => fetch(url, { method: 'PUT', headers, body: JSON.stringify({ status: 'ready' }) }).catch(() => {});",
    "ping(); setInterval(ping, 300);",
  ].join(" "),
];

/** A scheduler body whose rooms run {@link PINGING_ROOM}: real processes that turn ready through the rooms API. */
export function pingingSchedulerBody(name: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const body = schedulerBody(name, overrides);
  (body.spec as { containers: { command: readonly string[] }[] }).containers[0]!.command = PINGING_ROOM;
  return body;
}
