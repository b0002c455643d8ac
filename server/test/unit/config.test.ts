import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load-config.js";
import { isMaestroError, type MaestroError } from "../../src/core/errors.js";

describe("loadConfig", () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "maestro-config-"));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function yamlFile(text: string): Promise<string> {
    const path = join(dir, "maestro.yaml");
    await writeFile(path, text);
    return path;
  }

  function failure(run: () => unknown): MaestroError {
    try {
      run();
    } catch (err) {
      expect(isMaestroError(err, "invalid_argument")).toBe(true);
      return err as MaestroError;
    }
    throw new Error("expected loadConfig to fail");
  }

  it("gives the documented defaults with no file, no environment and no flags", () => {
    const config = loadConfig({ env: {} });
    expect(config.dataDir).toBe(".maestro");
    expect(config.log.level).toBe("info");
    expect(config.managementApi).toMatchObject({ host: "127.0.0.1", port: 8080 });
    expect(config.roomsApi).toMatchObject({
      host: "127.0.0.1",
      port: 8070,
      publicUrl: "",
      roomTokens: true,
      tokenSecret: "",
    });
    expect(config.storage).toMatchObject({ schedulers: { kind: "pglite", url: "" }, state: { kind: "memory" } });
    expect(config.rooms).toMatchObject({
      initializationTimeoutMs: 120_000,
      pingTimeoutMs: 240_000,
      deletionTimeoutMs: 120_000,
      allocationTtlMs: 300_000,
    });
    expect(config.workers.operationLeaseTtlMs).toBe(5_000);
    expect(config.operations).toMatchObject({ addRoomsLimit: 1000, addRoomsBatchSize: 40, removeRoomsLimit: 50 });
  });

  it("reads settings from a YAML file", async () => {
    const file = await yamlFile(`
managementApi:
  port: 9000
log:
  level: debug
roomsApi:
  roomTokens: false
  publicUrl: http://rooms.example:8070
storage:
  schedulers:
    kind: postgres
    url: postgres://maestro@db/maestro
`);
    const config = loadConfig({ file, env: {} });
    expect(config.managementApi).toMatchObject({ host: "127.0.0.1", port: 9000 });
    expect(config.log.level).toBe("debug");
    expect(config.roomsApi.roomTokens).toBe(false);
    expect(config.roomsApi.publicUrl).toBe("http://rooms.example:8070");
    expect(config.storage.schedulers).toMatchObject({ kind: "postgres", url: "postgres://maestro@db/maestro" });
    expect(config.roomsApi.port).toBe(8070);
  });

  it("keeps the default for a key left empty in the file", async () => {
    const file = await yamlFile("roomsApi:\n  publicUrl:\n  port: 8071\n");
    const config = loadConfig({ file, env: {} });
    expect(config.roomsApi.publicUrl).toBe("");
    expect(config.roomsApi.port).toBe(8071);
  });

  it("lets MAESTRO_* variables override the file, and ignores empty ones", async () => {
    const file = await yamlFile("managementApi:\n  port: 9000\n  host: 0.0.0.0\nroomsApi:\n  roomTokens: true\n");
    const config = loadConfig({
      file,
      env: {
        MAESTRO_MANAGEMENTAPI_PORT: "9100",
        MAESTRO_MANAGEMENTAPI_HOST: "",
        MAESTRO_ROOMSAPI_ROOMTOKENS: "false",
        MAESTRO_ROOMS_PINGTIMEOUTMS: "1000",
        MAESTRO_STORAGE_SCHEDULERS_KIND: "postgres",
      },
    });
    expect(config.managementApi).toMatchObject({ host: "0.0.0.0", port: 9100 });
    expect(config.roomsApi.roomTokens).toBe(false);
    expect(config.rooms.pingTimeoutMs).toBe(1000);
    expect(config.storage.schedulers.kind).toBe("postgres");
  });

  it("lets flags override the environment and the file", async () => {
    const file = await yamlFile("managementApi:\n  port: 9000\n");
    const config = loadConfig({
      file,
      env: { MAESTRO_MANAGEMENTAPI_PORT: "9100", MAESTRO_LOG_LEVEL: "warn" },
      overrides: { "managementApi.port": 9200, "roomsApi.roomTokens": "false" },
    });
    expect(config.managementApi.port).toBe(9200);
    expect(config.log.level).toBe("warn");
    expect(config.roomsApi.roomTokens).toBe(false);
  });

  it("reports every bad value at once, naming the setting, the rule and where the value came from", async () => {
    const file = await yamlFile("managementApi:\n  port: seventy\nroomsApi:\n  roomTokens: maybe\n");
    const err = failure(() =>
      loadConfig({
        file,
        env: { MAESTRO_LOG_LEVEL: "loud", MAESTRO_ROOMS_PINGTIMEOUTMS: "1.5" },
        overrides: { "workers.operationLeaseTtlMs": 0, "roomsApi.port": 70000 },
      }),
    );
    const lines = err.message.split("\n").slice(1);
    expect(lines).toHaveLength(6);
    expect(err.message).toContain(`managementApi.port: must be a number (got "seventy" from ${file})`);
    expect(err.message).toContain(`roomsApi.roomTokens: must be true or false (got "maybe" from ${file})`);
    expect(err.message).toContain(
      'log.level: must be one of trace, debug, info, warn, error, fatal (got "loud" from MAESTRO_LOG_LEVEL)',
    );
    expect(err.message).toContain(
      'rooms.pingTimeoutMs: must be an integer (got "1.5" from MAESTRO_ROOMS_PINGTIMEOUTMS)',
    );
    expect(err.message).toContain("workers.operationLeaseTtlMs: must be at least 1 (got 0 from command line)");
    expect(err.message).toContain("roomsApi.port: must be at most 65535 (got 70000 from command line)");
  });

  it("refuses lease timings that break fencing, naming the settings", () => {
    const leaseAboveOwnership = failure(() =>
      loadConfig({ env: {}, overrides: { "workers.operationLeaseTtlMs": 10_000, "workers.ownershipTtlMs": 10_000 } }),
    );
    expect(leaseAboveOwnership.message).toContain(
      "workers.operationLeaseTtlMs (10000) must be below workers.ownershipTtlMs (10000)",
    );
    const slowRenewals = failure(() =>
      loadConfig({
        env: {
          MAESTRO_WORKERS_OPERATIONLEASERENEWINTERVALMS: "5000",
          MAESTRO_WORKERS_OWNERSHIPRENEWINTERVALMS: "20000",
        },
        overrides: {},
      }),
    );
    expect(slowRenewals.message).toContain(
      "workers.operationLeaseRenewIntervalMs (5000) must be below workers.operationLeaseTtlMs (5000)",
    );
    expect(slowRenewals.message).toContain(
      "workers.ownershipRenewIntervalMs (20000) must be below workers.ownershipTtlMs (10000)",
    );
    // Derived renew intervals follow a TTL given alone.
    const ok = loadConfig({
      env: {},
      overrides: { "workers.operationLeaseTtlMs": 1000, "workers.ownershipTtlMs": 1500 },
    });
    expect(ok.workers.operationLeaseRenewIntervalMs).toBe(0);
  });

  it("blames the source that won: a bad file value overridden by a good variable is fine", async () => {
    const file = await yamlFile("managementApi:\n  port: seventy\n");
    expect(loadConfig({ file, env: { MAESTRO_MANAGEMENTAPI_PORT: "8090" } }).managementApi.port).toBe(8090);
    const err = failure(() => loadConfig({ env: { MAESTRO_MANAGEMENTAPI_PORT: "x" }, overrides: {} }));
    expect(err.message).toContain('managementApi.port: must be a number (got "x" from MAESTRO_MANAGEMENTAPI_PORT)');
  });

  it("reports unknown keys in the file, at any depth, and unknown flags", async () => {
    const file = await yamlFile("managementApi:\n  prot: 9000\nmanagmentApi:\n  port: 1\nrooms:\n  pingTimeout: 5\n");
    const err = failure(() =>
      loadConfig({ file, env: {}, overrides: { "roomsApi.bogus": 1, managementApi: { port: 1 } } }),
    );
    expect(err.message).toContain("managementApi.prot: unknown setting in config file");
    expect(err.message).toContain("managmentApi: unknown setting in config file");
    expect(err.message).toContain("rooms.pingTimeout: unknown setting in config file");
    expect(err.message).toContain("roomsApi.bogus: unknown setting");
    expect(err.message).toContain("managementApi: unknown setting");
  });

  it("reports a section given a plain value instead of silently using the defaults", async () => {
    const file = await yamlFile("managementApi: 9000\n");
    const err = failure(() => loadConfig({ file, env: {} }));
    expect(err.message).toContain(`managementApi: must be a mapping of settings (got 9000 from ${file})`);
  });

  it("refuses a missing file, invalid YAML and a file that is not a mapping with invalid_argument", async () => {
    expect(failure(() => loadConfig({ file: join(dir, "absent.yaml"), env: {} })).message).toContain(
      "cannot read config file",
    );
    const broken = await yamlFile("managementApi:\n  port: [1,\n");
    expect(failure(() => loadConfig({ file: broken, env: {} })).message).toContain("is not valid YAML");
    const list = await yamlFile("- a\n- b\n");
    expect(failure(() => loadConfig({ file: list, env: {} })).message).toContain("must hold a YAML mapping");
  });
});
