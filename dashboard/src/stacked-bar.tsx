import { statusColors } from "./format.js";

/** Rooms by status as one horizontal bar; each part's width is its share of all rooms. */
export function StackedBar({ counts }: { counts: Record<string, number> }) {
  const parts = Object.entries(counts).filter(([, n]) => n > 0);
  const total = parts.reduce((s, [, n]) => s + n, 0);
  const label = parts.map(([status, n]) => `${n} ${status}`).join(", ") || "no rooms";
  return (
    <div class="bar" role="img" title={label} aria-label={label} data-testid="rooms-bar">
      {parts.map(([status, n]) => (
        <span
          key={status}
          class="bar-part"
          style={{ width: `${(100 * n) / total}%`, background: statusColors[status] ?? "#999" }}
        >
          {n}
        </span>
      ))}
      {total === 0 && <span class="bar-empty">no rooms</span>}
    </div>
  );
}

export function Legend({ statuses }: { statuses: string[] }) {
  return (
    <div class="legend">
      {statuses.map((s) => (
        <span key={s}>
          <i style={{ background: statusColors[s] ?? "#999" }} /> {s}
        </span>
      ))}
    </div>
  );
}
