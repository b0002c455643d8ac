import type { RoomHistory, UsageTotals } from "./api.js";

const width = 1200;
const height = 140;
const hourMs = 3_600_000;

const series = [
  {
    key: "cpu",
    label: "CPU",
    color: "#d9534f",
    of: (u: UsageTotals) => ratio(u.cpuMillicores, u.cpuRequestMillicores),
  },
  {
    key: "memory",
    label: "memory",
    color: "#337ab7",
    of: (u: UsageTotals) => ratio(u.memoryBytes, u.memoryRequestBytes),
  },
] as const;

function ratio(used: number, requested: number): number | undefined {
  return requested > 0 ? used / requested : undefined;
}

/**
 * The rooms' CPU and memory over the last hour, as a share of what they request: the figure metricsTriggers cpu and
 * memory triggers compare with their usage (100% = exactly the requests).
 */
export function UsageChart({ history }: { history: RoomHistory | undefined }) {
  if (!history) return null;
  const samples = history.samples.filter((s) => s.usage);
  if (samples.length === 0) {
    return <p class="muted">No CPU or memory figures: the runtime measured no room (or none requests resources).</p>;
  }
  const end = Date.parse(history.samples.at(-1)!.at);
  const start = end - hourMs;
  const values = samples.flatMap((s) => series.map((line) => line.of(s.usage!) ?? 0));
  const max = Math.max(1, ...values);
  const x = (at: string) => ((Date.parse(at) - start) / hourMs) * width;
  const y = (v: number) => height - (v / max) * (height - 14);
  const last = samples.at(-1)!.usage!;
  return (
    <figure class="chart" data-testid="usage-history">
      <svg viewBox={`0 0 ${width} ${height + 16}`} role="img" aria-label="rooms' CPU and memory over the last hour">
        <line x1="0" y1={height} x2={width} y2={height} stroke="#ccc" />
        <line x1="0" y1={y(1)} x2={width} y2={y(1)} stroke="#999" stroke-dasharray="4 4" />
        <text x="2" y={y(1) - 2} class="axis">
          100% of requests
        </text>
        <text x="2" y="10" class="axis">
          {Math.round(max * 100)}%
        </text>
        <text x="0" y={height + 14} class="axis">
          -60 min
        </text>
        <text x={width} y={height + 14} class="axis" text-anchor="end">
          now
        </text>
        {series.map((line) => (
          <polyline
            key={line.key}
            data-series={line.key}
            fill="none"
            stroke={line.color}
            stroke-width="2"
            points={samples
              .map((s) => {
                const v = line.of(s.usage!);
                return v === undefined ? "" : `${x(s.at).toFixed(1)},${y(v).toFixed(1)}`;
              })
              .filter(Boolean)
              .join(" ")}
          />
        ))}
      </svg>
      <figcaption>
        <div class="legend">
          {series.map((line) => {
            const v = line.of(last);
            return (
              <span key={line.key}>
                <i style={{ background: line.color }} /> {line.label}{" "}
                {v === undefined ? "–" : `${Math.round(v * 100)}%`}
              </span>
            );
          })}
        </div>
        <span>
          {" "}
          · now {Math.round(last.cpuMillicores)}m CPU and {Math.round(last.memoryBytes / 2 ** 20)} MiB over {last.rooms}{" "}
          rooms
        </span>
      </figcaption>
    </figure>
  );
}
