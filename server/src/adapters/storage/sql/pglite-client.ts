import { mkdir } from "node:fs/promises";
import { PGlite, type Transaction } from "@electric-sql/pglite";
import type { CallOptions } from "../../../core/ports/call-options.js";
import type { SqlClient } from "./sql-client.js";
import { checkSignal, toMaestroError } from "./sql-errors.js";

/**
 * SqlClient over an embedded PGlite database: on disk under dataDir, or in memory when it is omitted. PGlite runs one
 * statement at a time and its own `transaction` holds a lock, so transactions are serialised without extra work.
 */
export class PgliteClient implements SqlClient {
  private constructor(private readonly db: PGlite) {}

  static async open(dataDir?: string): Promise<PgliteClient> {
    try {
      if (dataDir !== undefined) await mkdir(dataDir, { recursive: true });
      return new PgliteClient(await PGlite.create(dataDir));
    } catch (e) {
      throw toMaestroError(e);
    }
  }

  async query<T>(text: string, params?: readonly unknown[], opts?: CallOptions): Promise<{ rows: T[] }> {
    checkSignal(opts);
    try {
      const result = await this.db.query<T>(text, params === undefined ? undefined : [...params]);
      return { rows: result.rows };
    } catch (e) {
      throw toMaestroError(e);
    }
  }

  async exec(script: string, opts?: CallOptions): Promise<void> {
    checkSignal(opts);
    try {
      await this.db.exec(script);
    } catch (e) {
      throw toMaestroError(e);
    }
  }

  async transaction<R>(fn: (tx: SqlClient) => Promise<R>, opts?: CallOptions): Promise<R> {
    checkSignal(opts);
    try {
      return await this.db.transaction((tx) => fn(new PgliteTransactionClient(tx)));
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

class PgliteTransactionClient implements SqlClient {
  constructor(private readonly tx: Transaction) {}

  async query<T>(text: string, params?: readonly unknown[], opts?: CallOptions): Promise<{ rows: T[] }> {
    checkSignal(opts);
    try {
      const result = await this.tx.query<T>(text, params === undefined ? undefined : [...params]);
      return { rows: result.rows };
    } catch (e) {
      throw toMaestroError(e);
    }
  }

  async exec(script: string, opts?: CallOptions): Promise<void> {
    checkSignal(opts);
    try {
      await this.tx.exec(script);
    } catch (e) {
      throw toMaestroError(e);
    }
  }

  transaction<R>(fn: (tx: SqlClient) => Promise<R>, opts?: CallOptions): Promise<R> {
    checkSignal(opts);
    return fn(this);
  }

  async close(): Promise<void> {}
}
