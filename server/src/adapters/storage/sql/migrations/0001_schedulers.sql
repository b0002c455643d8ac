-- One row per scheduler; state and last_downscale_at are scheduler-wide so that switching versions keeps them.
create table schedulers (
  name text primary key,
  game text not null,
  active_version text not null,
  state text not null,
  last_downscale_at timestamptz,
  created_at timestamptz not null,
  updated_at timestamptz not null default now()
);

create index schedulers_game on schedulers (game);

-- Every version ever created; definition is the Scheduler without name, game, state, dates and rollbackVersion.
create table scheduler_versions (
  scheduler_name text not null references schedulers (name) on delete cascade,
  version text not null,
  definition jsonb not null,
  rollback_version text,
  created_at timestamptz not null,
  -- Insertion order: orders versions created within the same millisecond.
  seq bigint generated always as identity,
  primary key (scheduler_name, version)
);

create index scheduler_versions_newest on scheduler_versions (scheduler_name, created_at desc, seq desc);
