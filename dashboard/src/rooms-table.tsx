import type { GameRoom } from "@maestro/sdk-management/web";
import { age, roomStatuses, statusColors } from "./format.js";

function metadataText(room: GameRoom): string {
  if (!room.metadata || Object.keys(room.metadata).length === 0) return "";
  return JSON.stringify(room.metadata);
}

const address = (r: GameRoom) =>
  r.ports.length === 0 ? r.host : r.ports.map((p) => `${r.host}:${p.port}${p.name ? ` (${p.name})` : ""}`).join(", ");

export function RoomsTable(props: { rooms: GameRoom[]; status: string; onStatus(s: string): void; now: number }) {
  const { rooms, status, onStatus, now } = props;
  return (
    <div>
      <div class="toolbar">
        <h2>Rooms ({rooms.length})</h2>
        <label>
          Status{" "}
          <select
            data-testid="status-filter"
            value={status}
            onChange={(e) => onStatus((e.currentTarget as HTMLSelectElement).value)}
          >
            <option value="">all</option>
            {roomStatuses.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
      </div>
      <table class="grid" data-testid="rooms">
        <thead>
          <tr>
            <th>Room</th>
            <th>Status</th>
            <th>Version</th>
            <th>Last ping</th>
            <th>Matches</th>
            <th>Address</th>
            <th>Metadata</th>
          </tr>
        </thead>
        <tbody>
          {rooms.length === 0 && (
            <tr>
              <td colSpan={7} class="muted">
                No rooms{status ? ` with status ${status}` : ""}.
              </td>
            </tr>
          )}
          {rooms.map((r) => (
            <tr key={r.id} data-testid={`room-${r.id}`} data-status={r.status}>
              <td class="mono">
                {r.id}
                {r.isValidationRoom ? " (validation)" : ""}
              </td>
              <td>
                <span class="badge" style={{ background: statusColors[r.status] ?? "#999" }}>
                  {r.status}
                </span>
                {r.instanceStatusDescription ? <div class="small muted">{r.instanceStatusDescription}</div> : null}
              </td>
              <td>{r.version}</td>
              <td title={r.pingStatus}>{age(r.lastPingAt, now)}</td>
              <td>{r.runningMatches}</td>
              <td class="mono small">{address(r)}</td>
              <td class="mono small">{metadataText(r)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
