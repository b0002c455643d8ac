import type { CallOptions } from "../../../core/ports/call-options.js";

/**
 * The little the SQL adapters need from a database, implemented over PGlite (embedded) and pg (Postgres). Every
 * method throws only MaestroError (see sql-errors.ts); the driver's error stays available as `cause`.
 */
export interface SqlClient {
  /** One statement with `$1…` parameters. */
  query<T>(text: string, params?: readonly unknown[], opts?: CallOptions): Promise<{ rows: T[] }>;
  /** A script of several statements without parameters (migrations). */
  exec(script: string, opts?: CallOptions): Promise<void>;
  /** Runs fn in one transaction, committed when fn resolves. Called on a transaction's client it joins it. */
  transaction<R>(fn: (tx: SqlClient) => Promise<R>, opts?: CallOptions): Promise<R>;
  close(): Promise<void>;
}
