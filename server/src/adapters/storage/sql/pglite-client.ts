import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import type { CallOptions } from "../../../core/ports/call-options.js";
import { RawSqlClient } from "./raw-sql-client.js";
import type { SqlClient } from "./sql-client.js";
import { checkSignal, toMaestroError } from "./sql-errors.js";

/**
 * Postgres's own defaults are sized for a database server (shared_buffers 128 MB, all of it touched in the WASM heap);
 * the scheduler tables of one machine fit in a few. 16 MB: the embedded process's RSS drops by ≈ 110 MiB.
 */
const startParams = [...PGlite.defaultStartParams, "-c", "shared_buffers=16MB"];

/**
 * Creates a new PGlite database in a child process. initdb runs in its own WASM instance whose memory (≈ 500 MiB
 * touched) a process never gives back: run here, the server would keep it for its whole life (issue 17: 825 MiB
 * after a first start, 344 MiB after later ones).
 */
async function initInChild(dataDir: string): Promise<void> {
  const entry = createRequire(import.meta.url).resolve("@electric-sql/pglite");
  const script =
    "const { PGlite } = require(process.argv[1]);" +
    "PGlite.create(process.argv[2]).then((db) => db.close()).then(() => process.exit(0)," +
    " (e) => { console.error(String(e && e.message || e)); process.exit(1); });";
  const child = spawn(process.execPath, ["-e", script, entry, dataDir], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", resolve);
  });
  if (code !== 0)
    throw new Error(`creating the embedded database in ${dataDir} failed (exit ${code}): ${stderr.trim()}`);
}

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
      if (dataDir !== undefined) {
        await mkdir(dataDir, { recursive: true });
        if (!existsSync(join(dataDir, "PG_VERSION"))) await initInChild(dataDir);
      }
      return new PgliteClient(await PGlite.create(dataDir, { startParams }));
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
