import type { CallOptions } from "../../../core/ports/call-options.js";
import { migrate } from "./migrate.js";
import { PgClient } from "./pg-client.js";
import type { SqlClient } from "./sql-client.js";
import { SqlSchedulerStorage } from "./sql-scheduler-storage.js";

export type SchedulerStorageConfig =
  | { kind: "pglite" /** Directory of the embedded database; in memory when omitted. */; dataDir?: string | undefined }
  | { kind: "postgres"; url: string };

/** Connects, applies pending migrations and returns the storage (which owns and closes the connection). */
export async function openSchedulerStorage(
  config: SchedulerStorageConfig,
  opts?: CallOptions,
): Promise<SqlSchedulerStorage> {
  // PGlite is imported only when chosen: a process on PostgreSQL never loads it.
  const client: SqlClient =
    config.kind === "pglite"
      ? await (await import("./pglite-client.js")).PgliteClient.open(config.dataDir)
      : new PgClient({ url: config.url });
  try {
    await migrate(client, opts);
  } catch (e) {
    await client.close().catch(() => {});
    throw e;
  }
  return new SqlSchedulerStorage(client);
}
