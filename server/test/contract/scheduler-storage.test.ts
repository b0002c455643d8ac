import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MemorySchedulerStorage } from "../../src/adapters/storage/memory/index.js";
import { migrate, openSchedulerStorage, PgClient, PgliteClient } from "../../src/adapters/storage/sql/index.js";
import { isMaestroError } from "../../src/core/errors.js";
import { validScheduler } from "../support/fixtures.js";
import { startPostgres, type TestPostgres } from "../support/postgres.js";
import { fullScheduler, schedulerStorageContract } from "./scheduler-storage.contract.js";

const tempDirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "maestro-pglite-"));
  tempDirs.push(dir);
  return dir;
}

let postgres: TestPostgres | undefined;
async function postgresUrl(): Promise<string> {
  postgres ??= await startPostgres();
  return postgres.url;
}

afterAll(async () => {
  await postgres?.stop();
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
});

schedulerStorageContract("memory", () => new MemorySchedulerStorage());
schedulerStorageContract("PGlite in memory", () => openSchedulerStorage({ kind: "pglite" }));
schedulerStorageContract("PGlite on disk", async () =>
  openSchedulerStorage({ kind: "pglite", dataDir: await tempDir() }),
);
schedulerStorageContract("PostgreSQL", async () =>
  openSchedulerStorage({ kind: "postgres", url: await postgresUrl() }),
);

describe("SqlSchedulerStorage on PGlite on disk", () => {
  it("keeps schedulers and versions across close and reopen", async () => {
    const dataDir = await tempDir();
    const scheduler = fullScheduler("persisted");
    const first = await openSchedulerStorage({ kind: "pglite", dataDir });
    await first.createScheduler(scheduler);
    await first.createSchedulerVersion({
      ...scheduler,
      spec: { ...scheduler.spec, version: "v2.0.0" },
      createdAt: new Date(scheduler.createdAt.getTime() + 1000),
    });
    await first.switchActiveVersion("persisted", "v2.0.0");
    await first.close();

    const second = await openSchedulerStorage({ kind: "pglite", dataDir });
    try {
      const active = await second.getScheduler("persisted");
      expect(active.spec.version).toBe("v2.0.0");
      expect(await second.getSchedulerVersion("persisted", "v1.0.0")).toEqual(scheduler);
      expect((await second.listVersions("persisted")).map((v) => [v.version, v.isActive])).toEqual([
        ["v2.0.0", true],
        ["v1.0.0", false],
      ]);
    } finally {
      await second.close();
    }
  });

  it("answers unavailable once closed", async () => {
    const storage = await openSchedulerStorage({ kind: "pglite", dataDir: await tempDir() });
    await storage.close();
    const error = await storage.listSchedulerNames().catch((e: unknown) => e);
    expect(isMaestroError(error, "unavailable")).toBe(true);
  });
});

describe("SQL migrations", () => {
  it("apply once, record themselves in maestro_migrations and are idempotent", async () => {
    const client = await PgliteClient.open();
    try {
      expect(await migrate(client)).toContain("0001_schedulers.sql");
      expect(await migrate(client)).toEqual([]);
      const { rows } = await client.query<{ name: string }>("select name from maestro_migrations order by name");
      expect(rows.map((r) => r.name)).toContain("0001_schedulers.sql");
      const tables = await client.query<{ table_name: string }>(
        "select table_name from information_schema.tables where table_name in ('schedulers', 'scheduler_versions') order by 1",
      );
      expect(tables.rows.map((r) => r.table_name)).toEqual(["scheduler_versions", "schedulers"]);
    } finally {
      await client.close();
    }
  });

  it("stop before touching the database when the signal is aborted", async () => {
    const client = await PgliteClient.open();
    try {
      const error = await migrate(client, { signal: AbortSignal.abort() }).catch((e: unknown) => e);
      expect(isMaestroError(error, "canceled")).toBe(true);
      const { rows } = await client.query("select 1 from information_schema.tables where table_name = 'schedulers'");
      expect(rows).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it("run safely from several processes at once on PostgreSQL", async () => {
    const url = await postgresUrl();
    // A fresh database so that this test sees the migrations being applied, not already there.
    const admin = new PgClient({ url });
    const database = `migrate_${Date.now()}`;
    await admin.exec(`create database ${database}`);
    const clients = [1, 2, 3].map(() => new PgClient({ url: url.replace(/\/postgres$/, `/${database}`) }));
    try {
      const applied = await Promise.all(clients.map((client) => migrate(client)));
      // Each migration is applied by exactly one of the racing processes.
      expect(applied.flat().filter((name) => name === "0001_schedulers.sql")).toEqual(["0001_schedulers.sql"]);
      const { rows } = await clients[0]!.query<{ count: string }>(
        "select count(*) from maestro_migrations where name = '0001_schedulers.sql'",
      );
      expect(Number(rows[0]!.count)).toBe(1);
      const storage = await openSchedulerStorage({ kind: "postgres", url: url.replace(/\/postgres$/, `/${database}`) });
      await storage.createScheduler(validScheduler({ name: "after-race" }));
      expect(await storage.listSchedulerNames()).toEqual(["after-race"]);
      await storage.close();
    } finally {
      for (const client of clients) await client.close();
      await admin.close();
    }
  });
});

describe("SqlSchedulerStorage on PostgreSQL that is not there", () => {
  it("fails to open with unavailable", async () => {
    // Port 1 on loopback: nothing listens there and the connection is refused at once.
    const error = await openSchedulerStorage({
      kind: "postgres",
      url: "postgres://postgres@127.0.0.1:1/postgres",
    }).catch((e: unknown) => e);
    expect(isMaestroError(error, "unavailable")).toBe(true);
  });
});
