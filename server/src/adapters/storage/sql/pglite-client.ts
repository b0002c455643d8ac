import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import type { CallOptions } from "../../../core/ports/call-options.js";
import { RawSqlClient } from "./raw-sql-client.js";
import type { SqlClient } from "./sql-client.js";
import { checkSignal, toMaestroError } from "./sql-errors.js";

/**
 * SqlClient over an embedded PGlite database: on disk under dataDir, or in memory when it is omitted. PGlite runs one
 * statement at a time and its own `transaction` holds a lock, so transactions are serialised without extra work.
 */
export class PgliteClient implements SqlClient {
  private readonly direct: RawSqlClient;

  private constructor(private readonly db: PGlite) {
    this.direct = new RawSqlClient(db);
  }

  static async open(dataDir?: string): Promise<PgliteClient> {
    try {
      if (dataDir !== undefined) await mkdir(dataDir, { recursive: true });
      return new PgliteClient(await PGlite.create(dataDir));
    } catch (e) {
      throw toMaestroError(e);
    }
  }

  query<T>(text: string, params?: readonly unknown[], opts?: CallOptions): Promise<{ rows: T[] }> {
    return this.direct.query<T>(text, params, opts);
  }

  exec(script: string, opts?: CallOptions): Promise<void> {
    return this.direct.exec(script, opts);
  }

  async transaction<R>(fn: (tx: SqlClient) => Promise<R>, opts?: CallOptions): Promise<R> {
    checkSignal(opts);
    try {
      return await this.db.transaction((tx) => fn(new RawSqlClient(tx)));
    } catch (e) {
      throw toMaestroError(e);
    }
  }

  async close(): Promise<void> {
    if (this.db.closed) return;
    try {
      await this.db.close();
    } catch (e) {
      throw toMaestroError(e);
    }
  }
}
