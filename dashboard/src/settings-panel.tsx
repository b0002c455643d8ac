import type { Scheduler } from "@maestro/sdk-management/web";

/** Autoscaling policy and event forwarders of the active version (read only: change them with a new version). */
export function SettingsPanel({ scheduler }: { scheduler: Scheduler }) {
  const a = scheduler.autoscaling;
  const params = a?.policy?.parameters;
  return (
    <div class="panel" data-testid="settings">
      <h2>Autoscaling</h2>
      {!a ? (
        <p class="muted">Not configured: the scheduler keeps {scheduler.roomsReplicas} rooms.</p>
      ) : (
        <dl>
          <dt>Enabled</dt>
          <dd>{a.enabled ? "on" : "off"}</dd>
          <dt>Rooms</dt>
          <dd>
            min {a.min}, max {a.max}
          </dd>
          {a.policy?.type !== "metricsTriggers" && (
            <>
              <dt>Cooldown</dt>
              <dd>{a.cooldown}s</dd>
            </>
          )}
          <dt>Policy</dt>
          <dd>
            {a.policy?.type ?? "none"}
            {params?.roomOccupancy &&
              ` (ready target ${params.roomOccupancy.readyTarget}${
                params.roomOccupancy.downThreshold !== undefined
                  ? `, down threshold ${params.roomOccupancy.downThreshold}`
                  : ""
              })`}
            {params?.fixedBuffer && ` (buffer ${params.fixedBuffer.amount ?? 0})`}
            {params?.custom && Object.keys(params.custom).length > 0 && ` ${JSON.stringify(params.custom)}`}
          </dd>
          {(["up", "down"] as const).map((direction) => {
            const d = params?.metricsTriggers?.[direction];
            if (!d) return null;
            return [
              <dt key={`${direction}-t`}>{direction === "up" ? "Up triggers" : "Down triggers"}</dt>,
              <dd key={`${direction}-d`} data-testid={`triggers-${direction}`}>
                {d.triggers
                  .map(
                    (t) =>
                      `${t.type} ${t.usage}% for ${t.threshold}% of ${t.time}s` +
                      (t.limit !== undefined ? `, limit ${t.limit}%` : "") +
                      (t.delta !== undefined ? `, ${direction === "up" ? "+" : "−"}${t.delta} rooms` : ""),
                  )
                  .join("; ")}
                {` (cooldown ${d.cooldown}s)`}
              </dd>,
            ];
          })}
        </dl>
      )}
      <h2>Forwarders</h2>
      {scheduler.forwarders.length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <table class="grid">
          <thead>
            <tr>
              <th>Name</th>
              <th>Type</th>
              <th>Address</th>
              <th>Enabled</th>
              <th>Timeout</th>
            </tr>
          </thead>
          <tbody>
            {scheduler.forwarders.map((f) => (
              <tr key={f.name}>
                <td>{f.name}</td>
                <td>{f.type}</td>
                <td class="mono">{f.address}</td>
                <td>{f.enable ? "yes" : "no"}</td>
                <td>{f.options ? `${f.options.timeout} ms` : ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Other settings</h2>
      <dl>
        <dt>Max surge</dt>
        <dd>{scheduler.maxSurge}</dd>
        <dt>Port range</dt>
        <dd>{scheduler.portRange ? `${scheduler.portRange.start}–${scheduler.portRange.end}` : "per container"}</dd>
        <dt>Matches per room</dt>
        <dd>{scheduler.matchAllocation?.maxMatches ?? 1}</dd>
      </dl>
    </div>
  );
}
