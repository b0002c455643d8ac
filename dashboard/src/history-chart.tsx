import type { RoomHistory } from "./api.js";
import { roomStatuses, statusColors } from "./format.js";
import { Legend } from "./stacked-bar.js";

const width = 1200;
const height = 160;
const hourMs = 3_600_000;

/**
 * Rooms by status over the last hour as stacked columns, one per sample, placed by time so gaps (a restart of the
 * server, which keeps the history in memory) show as gaps.
 */
export function HistoryChart({ history }: { history: RoomHistory | undefined }) {
  if (!history) return <p class="muted">Loading history…</p>;
  const samples = history.samples;
  const end = samples.length > 0 ? Date.parse(samples.at(-1)!.at) : Date.now();
  const start = end - hourMs;
  const totals = samples.map((s) => Object.values(s.counts).reduce((a: number, n) => a + (n ?? 0), 0));
  const max = Math.max(1, ...totals);
  const colWidth = Math.max(2, (width * history.intervalSeconds * 1000) / hourMs - 1);
  const present = roomStatuses.filter((st) => samples.some((s) => (s.counts[st] ?? 0) > 0));
  return (
    <figure class="chart" data-testid="room-history">
      <svg viewBox={`0 0 ${width} ${height + 16}`} role="img" aria-label="rooms by status over the last hour">
        <line x1="0" y1={height} x2={width} y2={height} stroke="#ccc" />
        <text x="0" y={height + 14} class="axis">
          -60 min
        </text>
        <text x={width} y={height + 14} class="axis" text-anchor="end">
          now
        </text>
        <text x="2" y="10" class="axis">
          {max} rooms
        </text>
        {samples.map((s) => {
          const x = ((Date.parse(s.at) - start) / hourMs) * (width - colWidth);
          let y = height;
          return (
            <g key={s.at}>
              {roomStatuses.map((st) => {
                const n = s.counts[st] ?? 0;
                if (n === 0) return null;
                const h = (n / max) * (height - 14);
                y -= h;
                return <rect key={st} x={x} y={y} width={colWidth} height={h} fill={statusColors[st]} />;
              })}
            </g>
          );
        })}
      </svg>
      <figcaption>
        <Legend statuses={present} />
        <span> · one sample every {history.intervalSeconds} s, kept for an hour by this server</span>
      </figcaption>
    </figure>
  );
}
