import pg from "pg";
import type { CallOptions } from "../../../core/ports/call-options.js";
import { type RawSql, RawSqlClient } from "./raw-sql-client.js";
import type { SqlClient } from "./sql-client.js";
import { checkSignal, toMaestroError } from "./sql-errors.js";

export interface PgClientOptions {
  /** `postgres://user:password@host:port/database`. */
  url: string;
  /** Pool size; default 10. */
  max?: number;
  /** How long to wait for a connection before answering unavailable; default 5000 ms. */
  connectionTimeoutMillis?: number;
}

/** SqlClient over a pg.Pool (real PostgreSQL). */
export class PgClient implements SqlClient {
  private readonly pool: pg.Pool;
  private readonly pooled: RawSqlClient;

  constructor(options: PgClientOptions) {
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.max ?? 10,
      connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5000,
    });
    // An idle client losing its connection (Postgres restart) must not crash the process; the next query reconnects.
    this.pool.on("error", () => {});
    this.pooled = new RawSqlClient(sqlOf(this.pool));
  }

  query<T>(text: string, params?: readonly unknown[], opts?: CallOptions): Promise<{ rows: T[] }> {
    return this.pooled.query<T>(text, params, opts);
  }

  exec(script: string, opts?: CallOptions): Promise<void> {
    return this.pooled.exec(script, opts);
  }

  async transaction<R>(fn: (tx: SqlClient) => Promise<R>, opts?: CallOptions): Promise<R> {
    checkSignal(opts);
    let connection: pg.PoolClient;
    try {
      connection = await this.pool.connect();
    } catch (e) {
      throw toMaestroError(e);
    }
    let broken: Error | undefined;
    try {
      await connection.query("begin");
      const result = await fn(new RawSqlClient(sqlOf(connection)));
      await connection.query("commit");
      return result;
    } catch (e) {
      try {
        await connection.query("rollback");
      } catch (rollbackError) {
        // A connection that cannot even roll back is destroyed instead of going back to the pool.
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      }
      throw toMaestroError(e);
    } finally {
      connection.release(broken);
    }
  }

  async close(): Promise<void> {
    if (this.pool.ended) return;
    try {
      await this.pool.end();
    } catch (e) {
      throw toMaestroError(e);
    }
  }
}

/** Without parameters pg uses the simple query protocol, which accepts several statements: that is `exec`. */
function sqlOf(db: pg.Pool | pg.PoolClient): RawSql {
  return { query: (text, params) => db.query(text, params), exec: (script) => db.query(script) };
}
