import type { CallOptions } from "../../../core/ports/call-options.js";
import type { SqlClient } from "./sql-client.js";
import { checkSignal, toMaestroError } from "./sql-errors.js";

/** What the pg and PGlite drivers have in common: parameterised queries and multi-statement scripts. */
export interface RawSql {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
  exec(script: string): Promise<unknown>;
}

/** Runs a driver call after checking the signal, turning driver errors into MaestroErrors. */
export async function guarded<T>(opts: CallOptions | undefined, call: () => Promise<T>): Promise<T> {
  checkSignal(opts);
  try {
    return await call();
  } catch (e) {
    throw toMaestroError(e);
  }
}

/** A SqlClient over one connection or transaction; nested transactions simply run inside the current one. */
export class RawSqlClient implements SqlClient {
  constructor(private readonly raw: RawSql) {}

  query<T>(text: string, params?: readonly unknown[], opts?: CallOptions): Promise<{ rows: T[] }> {
    return guarded(opts, async () => {
      const result = await this.raw.query(text, params === undefined ? undefined : [...params]);
      return { rows: result.rows as T[] };
    });
  }

  exec(script: string, opts?: CallOptions): Promise<void> {
    return guarded(opts, async () => {
      await this.raw.exec(script);
    });
  }

  transaction<R>(fn: (tx: SqlClient) => Promise<R>, opts?: CallOptions): Promise<R> {
    checkSignal(opts);
    return fn(this);
  }

  async close(): Promise<void> {}
}
