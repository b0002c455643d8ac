import type { SchedulerInfo, SchedulerWithoutSpec } from "@maestro/sdk-management/web";
import type { Session } from "./api.js";
import { ErrorNote } from "./error-note.js";
import { Legend, StackedBar } from "./stacked-bar.js";
import { usePoll } from "./use-poll.js";

interface Row {
  info: SchedulerInfo;
  scheduler: SchedulerWithoutSpec | undefined;
}

const barStatuses = ["ready", "occupied", "allocated", "active", "pending", "unready", "error", "terminating"];

/** Every scheduler at a glance, refreshed every 2 s. */
export function Overview({ session, game, onGame }: { session: Session; game: string; onGame(g: string): void }) {
  const polled = usePoll(async (signal) => {
    const [infos, schedulers] = await Promise.all([
      session.client.schedulers.info(game || undefined, { signal }),
      session.client.schedulers.list({}, { signal }),
    ]);
    const byName = new Map(schedulers.map((s) => [s.name, s]));
    const rows: Row[] = infos
      .map((info) => ({ info, scheduler: byName.get(info.name) }))
      .sort((a, b) => a.info.name.localeCompare(b.info.name));
    const games = [...new Set(schedulers.map((s) => s.game))].sort();
    return { rows, games };
  }, `overview/${session.token}/${game}`);
  const { data, error } = polled;
  return (
    <section>
      <div class="toolbar">
        <h1>Schedulers</h1>
        <label>
          Game{" "}
          <select
            data-testid="game-filter"
            value={game}
            onChange={(e) => onGame((e.currentTarget as HTMLSelectElement).value)}
          >
            <option value="">all games</option>
            {(data?.games ?? (game ? [game] : [])).map((g) => (
              <option key={g} value={g}>
                {g}
              </option>
            ))}
          </select>
        </label>
        <Legend statuses={barStatuses} />
      </div>
      <ErrorNote error={error} />
      {!data && !error && <p class="muted">Loading…</p>}
      {data && data.rows.length === 0 && (
        <p class="muted">
          No schedulers{game ? ` for game ${game}` : ""} yet. Create one with <code>POST /schedulers</code> or{" "}
          <code>maestroctl</code>.
        </p>
      )}
      {data && data.rows.length > 0 && (
        <table class="grid" data-testid="schedulers">
          <thead>
            <tr>
              <th>Scheduler</th>
              <th>Game</th>
              <th>State</th>
              <th>Version</th>
              <th class="wide">Rooms by status</th>
              <th>Occupancy</th>
              <th>Rooms (current / desired)</th>
              <th>Autoscaling</th>
            </tr>
          </thead>
          <tbody>
            {data.rows.map(({ info, scheduler }) => {
              const counts = {
                ready: info.roomsReady,
                occupied: info.roomsOccupied,
                allocated: info.roomsAllocated,
                active: info.roomsActive,
                pending: info.roomsPending,
                unready: info.roomsUnready,
                error: info.roomsError,
                terminating: info.roomsTerminating,
              };
              const current = Object.values(counts).reduce((a, b) => a + b, 0);
              const inUse = info.roomsReady + info.roomsOccupied;
              const occupancy = inUse === 0 ? 0 : Math.round((100 * info.roomsOccupied) / inUse);
              const auto = info.autoscaling;
              return (
                <tr key={info.name} data-testid={`scheduler-${info.name}`}>
                  <td>
                    <a href={`#/schedulers/${encodeURIComponent(info.name)}`}>{info.name}</a>
                  </td>
                  <td>{info.game}</td>
                  <td>
                    <span class={`state state-${info.state}`}>{info.state}</span>
                    {info.roomsCrashing && (
                      <span
                        class="badge crashing"
                        data-testid="rooms-crashing"
                        title={`${info.roomsCrashing.crashes} crashed; last: ${info.roomsCrashing.lastReason}`}
                      >
                        rooms crashing
                      </span>
                    )}
                  </td>
                  <td>{scheduler?.version ?? ""}</td>
                  <td>
                    <StackedBar counts={counts} />
                  </td>
                  <td data-testid="occupancy">{occupancy}%</td>
                  <td data-testid="desired">
                    {current} / {info.roomsReplicas}
                    {auto?.enabled ? ` (min ${auto.min}, max ${auto.max})` : ""}
                  </td>
                  <td>{auto?.enabled ? "on" : "off"}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <p class="muted small">Refreshed every 2 s.</p>
    </section>
  );
}
