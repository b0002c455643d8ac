import { useState } from "preact/hooks";
import { roomHistory, type Session } from "./api.js";
import { ErrorNote } from "./error-note.js";
import { HistoryChart } from "./history-chart.js";
import { OperationsPanel } from "./operations-panel.js";
import { RoomsTable } from "./rooms-table.js";
import { ScaleControl } from "./scale-control.js";
import { SettingsPanel } from "./settings-panel.js";
import { UsageChart } from "./usage-chart.js";
import { usePoll } from "./use-poll.js";
import { VersionsPanel } from "./versions-panel.js";

const finalShown = 20;

/** One scheduler: rooms, their history, versions, operations and settings, refreshed every 2 s. */
export function SchedulerPage({ session, name }: { session: Session; name: string }) {
  const [status, setStatus] = useState("");
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const c = session.client;
  const main = usePoll(async (signal) => {
    const opts = { signal };
    const [scheduler, rooms, versions, pending, active, final] = await Promise.all([
      c.schedulers.get(name, opts),
      c.rooms.list(name, { ...opts, status: status || undefined }),
      c.schedulers.versions(name, opts),
      c.operations.list(name, { stage: "pending" }, opts),
      c.operations.list(name, { stage: "active" }, opts),
      c.operations.list(name, { stage: "final", page: 1, perPage: finalShown }, opts),
    ]);
    rooms.sort((a, b) => a.id.localeCompare(b.id));
    return {
      scheduler,
      rooms,
      versions,
      operations: {
        pending: pending.operations,
        active: active.operations,
        final: final.operations,
        finalTotal: final.total,
      },
      at: Date.now(),
    };
  }, `scheduler/${session.token}/${name}/${status}`);
  const history = usePoll((signal) => roomHistory(session, name, signal), `history/${session.token}/${name}`, 10_000);
  const canAct = session.role === "write";
  const onAction = (message: string) => {
    setNotice(message);
    main.refresh();
  };
  const d = main.data;

  return (
    <section>
      <p>
        <a href="#/">← All schedulers</a>
      </p>
      <div class="toolbar">
        <h1 data-testid="scheduler-title">{name}</h1>
        {d && (
          <span class="muted">
            game {d.scheduler.game} · <span class={`state state-${d.scheduler.state}`}>{d.scheduler.state}</span> ·
            version {d.scheduler.spec?.version} · {d.scheduler.roomsReplicas} rooms wanted
          </span>
        )}
        {d && canAct && <ScaleControl session={session} scheduler={name} onAction={onAction} />}
      </div>
      {d?.scheduler.roomsCrashing && (
        <p class="error" data-testid="rooms-crashing">
          Rooms keep crashing: {d.scheduler.roomsCrashing.crashes} crashed; last {d.scheduler.roomsCrashing.lastRoomId}:{" "}
          <span class="mono">{d.scheduler.roomsCrashing.lastReason}</span> (its log:{" "}
          <span class="mono">
            maestroctl rooms logs {name} {d.scheduler.roomsCrashing.lastRoomId}
          </span>
          )
        </p>
      )}
      {notice && (
        <p class="notice" data-testid="notice">
          {notice}{" "}
          <button type="button" class="link" onClick={() => setNotice(undefined)}>
            dismiss
          </button>
        </p>
      )}
      <ErrorNote error={main.error} />
      {!d && !main.error && <p class="muted">Loading…</p>}
      {d && (
        <>
          <RoomsTable rooms={d.rooms} status={status} onStatus={setStatus} now={d.at} />
          <h2>Rooms by status, last hour</h2>
          <ErrorNote error={history.error} />
          <HistoryChart history={history.data} />
          <h2>CPU and memory over requests, last hour</h2>
          <UsageChart history={history.data} />
          <div class="columns">
            <OperationsPanel
              session={session}
              scheduler={name}
              lists={d.operations}
              canAct={canAct}
              onAction={onAction}
            />
            <VersionsPanel
              session={session}
              scheduler={name}
              versions={d.versions}
              canAct={canAct}
              onAction={onAction}
            />
          </div>
          <SettingsPanel scheduler={d.scheduler} />
        </>
      )}
    </section>
  );
}
