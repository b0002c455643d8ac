import type { Scheduler, SchedulerFilter, SchedulerState, SchedulerVersion } from "../../../core/entities/scheduler.js";
import { isMaestroError, MaestroError } from "../../../core/errors.js";
import type { CallOptions } from "../../../core/ports/call-options.js";
import type { SchedulerStorage } from "../../../core/ports/scheduler-storage.js";
import type { SqlClient } from "./sql-client.js";

/** What a version row's `definition` holds: the recipe, without what has its own column. */
type Definition = Omit<Scheduler, "name" | "game" | "state" | "createdAt" | "rollbackVersion" | "lastDownscaleAt">;

interface SchedulerRow {
  name: string;
  game: string;
  state: SchedulerState;
  last_downscale_at: Date | string | null;
  definition: Definition | string;
  rollback_version: string | null;
  created_at: Date | string;
}

const selectScheduler = `
  select s.name, s.game, s.state, s.last_downscale_at, v.definition, v.rollback_version, v.created_at
  from schedulers s
  join scheduler_versions v on v.scheduler_name = s.name`;

/**
 * SchedulerStorage over SQL that runs unchanged on PGlite and PostgreSQL. State and lastDownscaleAt live on the
 * scheduler row (they survive version switches); a version's createdAt never changes after it is created.
 * Owns the client: close() closes it.
 */
export class SqlSchedulerStorage implements SchedulerStorage {
  constructor(private readonly client: SqlClient) {}

  async getScheduler(name: string, opts?: CallOptions): Promise<Scheduler> {
    const { rows } = await this.client.query<SchedulerRow>(
      `${selectScheduler} and v.version = s.active_version where s.name = $1`,
      [name],
      opts,
    );
    const row = rows[0];
    if (row === undefined) throw MaestroError.notFound(`scheduler ${name}`);
    return toScheduler(row);
  }

  async getSchedulerVersion(name: string, version: string, opts?: CallOptions): Promise<Scheduler> {
    const { rows } = await this.client.query<SchedulerRow>(
      `${selectScheduler} where s.name = $1 and v.version = $2`,
      [name, version],
      opts,
    );
    const row = rows[0];
    if (row === undefined) throw MaestroError.notFound(`scheduler ${name} version ${version}`);
    return toScheduler(row);
  }

  async listSchedulers(filter: SchedulerFilter = {}, opts?: CallOptions): Promise<Scheduler[]> {
    const { rows } = await this.client.query<SchedulerRow>(
      `${selectScheduler} and v.version = s.active_version
       where ($1::text is null or s.name = $1)
         and ($2::text is null or s.game = $2)
         and ($3::text is null or s.active_version = $3)
       order by s.name collate "C"`,
      [filter.name ?? null, filter.game ?? null, filter.version ?? null],
      opts,
    );
    return rows.map(toScheduler);
  }

  async listSchedulerNames(opts?: CallOptions): Promise<string[]> {
    const { rows } = await this.client.query<{ name: string }>(
      `select name from schedulers order by name collate "C"`,
      [],
      opts,
    );
    return rows.map((row) => row.name);
  }

  async createScheduler(scheduler: Scheduler, opts?: CallOptions): Promise<void> {
    const version = scheduler.spec.version;
    try {
      await this.client.transaction(async (tx) => {
        await tx.query(
          `insert into schedulers (name, game, active_version, state, last_downscale_at, created_at)
           values ($1, $2, $3, $4, $5::timestamptz, $6::timestamptz)`,
          [
            scheduler.name,
            scheduler.game,
            version,
            scheduler.state,
            isoOrNull(scheduler.lastDownscaleAt),
            scheduler.createdAt.toISOString(),
          ],
          opts,
        );
        await insertVersion(tx, scheduler, opts);
      }, opts);
    } catch (e) {
      if (isMaestroError(e, "already_exists")) {
        throw new MaestroError("already_exists", `scheduler ${scheduler.name} already exists`, { cause: e });
      }
      throw e;
    }
  }

  async createSchedulerVersion(scheduler: Scheduler, opts?: CallOptions): Promise<void> {
    const version = scheduler.spec.version;
    try {
      await this.client.transaction(async (tx) => {
        // The row lock keeps a concurrent deleteScheduler from removing the scheduler under the new version.
        const { rows } = await tx.query("select 1 from schedulers where name = $1 for update", [scheduler.name], opts);
        if (rows.length === 0) throw MaestroError.notFound(`scheduler ${scheduler.name}`);
        await insertVersion(tx, scheduler, opts);
      }, opts);
    } catch (e) {
      if (isMaestroError(e, "already_exists")) {
        throw new MaestroError("already_exists", `scheduler ${scheduler.name} version ${version} already exists`, {
          cause: e,
        });
      }
      throw e;
    }
  }

  async switchActiveVersion(name: string, version: string, opts?: CallOptions): Promise<void> {
    const { rows } = await this.client.query(
      `update schedulers set active_version = $2, updated_at = now()
       where name = $1 and exists (select 1 from scheduler_versions where scheduler_name = $1 and version = $2)
       returning name`,
      [name, version],
      opts,
    );
    if (rows.length === 0) throw await this.missing(name, version, opts);
  }

  async updateScheduler(scheduler: Scheduler, opts?: CallOptions): Promise<void> {
    const version = scheduler.spec.version;
    await this.client.transaction(async (tx) => {
      const updated = await tx.query(
        `update scheduler_versions set definition = $3::jsonb, rollback_version = $4
         where scheduler_name = $1 and version = $2
         returning version`,
        [scheduler.name, version, JSON.stringify(definitionOf(scheduler)), scheduler.rollbackVersion ?? null],
        opts,
      );
      if (updated.rows.length === 0) throw await this.missing(scheduler.name, version, opts, tx);
      await tx.query(
        `update schedulers set game = $2, state = $3, last_downscale_at = $4::timestamptz, updated_at = now()
         where name = $1`,
        [scheduler.name, scheduler.game, scheduler.state, isoOrNull(scheduler.lastDownscaleAt)],
        opts,
      );
    }, opts);
  }

  async listVersions(name: string, opts?: CallOptions): Promise<SchedulerVersion[]> {
    const { rows } = await this.client.query<{ version: string; is_active: boolean; created_at: Date | string }>(
      `select v.version, v.version = s.active_version as is_active, v.created_at
       from scheduler_versions v
       join schedulers s on s.name = v.scheduler_name
       where v.scheduler_name = $1
       order by v.created_at desc, v.seq desc`,
      [name],
      opts,
    );
    // A scheduler always has at least its first version, so no rows means no scheduler.
    if (rows.length === 0) throw MaestroError.notFound(`scheduler ${name}`);
    return rows.map((row) => ({ version: row.version, isActive: row.is_active, createdAt: toDate(row.created_at) }));
  }

  async deleteScheduler(name: string, opts?: CallOptions): Promise<void> {
    const { rows } = await this.client.query("delete from schedulers where name = $1 returning name", [name], opts);
    if (rows.length === 0) throw MaestroError.notFound(`scheduler ${name}`);
  }

  close(): Promise<void> {
    return this.client.close();
  }

  /** The not_found error naming whichever of scheduler or version is absent. */
  private async missing(
    name: string,
    version: string,
    opts: CallOptions | undefined,
    client: SqlClient = this.client,
  ): Promise<MaestroError> {
    const { rows } = await client.query("select 1 from schedulers where name = $1", [name], opts);
    return MaestroError.notFound(rows.length === 0 ? `scheduler ${name}` : `scheduler ${name} version ${version}`);
  }
}

async function insertVersion(tx: SqlClient, scheduler: Scheduler, opts: CallOptions | undefined): Promise<void> {
  await tx.query(
    `insert into scheduler_versions (scheduler_name, version, definition, rollback_version, created_at)
     values ($1, $2, $3::jsonb, $4, $5::timestamptz)`,
    [
      scheduler.name,
      scheduler.spec.version,
      JSON.stringify(definitionOf(scheduler)),
      scheduler.rollbackVersion ?? null,
      scheduler.createdAt.toISOString(),
    ],
    opts,
  );
}

function definitionOf(scheduler: Scheduler): Definition {
  const { name, game, state, createdAt, rollbackVersion, lastDownscaleAt, ...definition } = scheduler;
  return definition;
}

function toScheduler(row: SchedulerRow): Scheduler {
  const definition: Definition = typeof row.definition === "string" ? JSON.parse(row.definition) : row.definition;
  return {
    ...definition,
    name: row.name,
    game: row.game,
    state: row.state,
    rollbackVersion: row.rollback_version ?? undefined,
    createdAt: toDate(row.created_at),
    lastDownscaleAt: row.last_downscale_at === null ? undefined : toDate(row.last_downscale_at),
  };
}

function toDate(value: Date | string): Date {
  return new Date(value);
}

function isoOrNull(date: Date | undefined): string | null {
  return date === undefined ? null : date.toISOString();
}
