import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { UmzugStorage } from "umzug";
import { MaestroError } from "../../../core/errors.js";
import type { CallOptions } from "../../../core/ports/call-options.js";
import type { SqlClient } from "./sql-client.js";
import { checkSignal } from "./sql-errors.js";

// Resolves next to this module in src/ and next to the bundled dist/*.js, where the build copies the .sql files.
const migrationsDir = new URL("./migrations/", import.meta.url);

// Serialises migrations of several processes starting against the same Postgres (PGlite has one session anyway).
const migrationLockKey = 7_413_920_551;

/**
 * Applies every pending `migrations/*.sql` file in name order, each in its own transaction, and returns the names this
 * call applied (not those another process applied meanwhile). Idempotent.
 */
export async function migrate(client: SqlClient, opts?: CallOptions): Promise<string[]> {
  checkSignal(opts);
  const files = await migrationFiles();
  const storage = new SqlMigrationStorage(client, opts);
  // Every process opens the storage and nearly always finds the schema current: Umzug (≈ 8 MiB of resident code) is
  // loaded only when there is something to apply.
  const executed = new Set(await storage.executed());
  if (files.every((name) => executed.has(name))) return [];
  const { Umzug } = await import("umzug");
  const applied: string[] = [];
  const umzug = new Umzug({
    migrations: files.map((name) => ({
      name,
      path: fileURLToPath(new URL(name, migrationsDir)),
      up: async () => {
        checkSignal(opts);
        const script = await readFile(new URL(name, migrationsDir), "utf8");
        if (await applyOnce(client, name, script, opts)) applied.push(name);
      },
    })),
    storage,
    context: {},
    logger: undefined,
  });
  try {
    await umzug.up();
    return applied;
  } catch (e) {
    // Umzug wraps a failing migration in its own error; the MaestroError from the client is its cause.
    const cause = (e as { cause?: unknown }).cause;
    throw MaestroError.from(cause instanceof MaestroError ? cause : e);
  }
}

async function migrationFiles(): Promise<string[]> {
  try {
    const entries = await readdir(migrationsDir);
    return entries.filter((name) => name.endsWith(".sql")).sort();
  } catch (e) {
    throw new MaestroError("internal", `cannot read SQL migrations from ${fileURLToPath(migrationsDir)}`, { cause: e });
  }
}

/** Runs a migration and records it in one transaction, skipping it if another process got there first. */
async function applyOnce(client: SqlClient, name: string, script: string, opts?: CallOptions): Promise<boolean> {
  return client.transaction(async (tx) => {
    await tx.query("select pg_advisory_xact_lock($1)", [migrationLockKey], opts);
    const done = await tx.query("select 1 from maestro_migrations where name = $1", [name], opts);
    if (done.rows.length > 0) return false;
    await tx.exec(script, opts);
    await tx.query("insert into maestro_migrations (name) values ($1)", [name], opts);
    return true;
  }, opts);
}

class SqlMigrationStorage implements UmzugStorage {
  constructor(
    private readonly client: SqlClient,
    private readonly opts: CallOptions | undefined,
  ) {}

  async executed(): Promise<string[]> {
    await this.client.transaction(async (tx) => {
      await tx.query("select pg_advisory_xact_lock($1)", [migrationLockKey], this.opts);
      await tx.exec(
        "create table if not exists maestro_migrations (name text primary key, executed_at timestamptz not null default now())",
        this.opts,
      );
    }, this.opts);
    const result = await this.client.query<{ name: string }>(
      "select name from maestro_migrations order by name",
      [],
      this.opts,
    );
    return result.rows.map((row) => row.name);
  }

  // applyOnce already recorded the migration inside its own transaction.
  async logMigration(): Promise<void> {}

  async unlogMigration({ name }: { name: string }): Promise<void> {
    await this.client.query("delete from maestro_migrations where name = $1", [name], this.opts);
  }
}
