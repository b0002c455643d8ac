import { toJson } from "@bufbuild/protobuf";
import { SchedulerSchema } from "@maestro/proto";
import type { SchedulerVersion } from "@maestro/sdk-management/web";
import { useEffect, useState } from "preact/hooks";
import { describeError, type Session } from "./api.js";
import { time } from "./format.js";
import { type Change, diffDefinitions } from "./spec-diff.js";

interface Props {
  session: Session;
  scheduler: string;
  versions: SchedulerVersion[];
  canAct: boolean;
  onAction(message: string): void;
}

/** Versions, newest first; selecting one shows what it changed from the version before it. */
export function VersionsPanel({ session, scheduler, versions, canAct, onAction }: Props) {
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const [base, setBase] = useState<string | undefined>(undefined);
  const [diff, setDiff] = useState<{ changes: Change[] } | { error: string } | undefined>(undefined);

  const chosen = selected ?? versions.find((v) => v.isActive)?.version ?? versions[0]?.version;
  const index = versions.findIndex((v) => v.version === chosen);
  const against = base ?? versions[index + 1]?.version;

  useEffect(() => {
    setDiff(undefined);
    if (!chosen || !against) return;
    const stop = new AbortController();
    const get = (version: string) => session.client.schedulers.get(scheduler, { version, signal: stop.signal });
    Promise.all([get(against), get(chosen)]).then(
      ([a, b]) => setDiff({ changes: diffDefinitions(toJson(SchedulerSchema, a), toJson(SchedulerSchema, b)) }),
      (err) => !stop.signal.aborted && setDiff({ error: describeError(err) }),
    );
    return () => stop.abort();
  }, [session, scheduler, chosen, against]);

  const switchTo = async (version: string) => {
    if (!confirm(`Switch ${scheduler} to ${version}? Rooms of other versions are replaced.`)) return;
    try {
      const id = await session.client.schedulers.switchActiveVersion(scheduler, version);
      onAction(`Switching to ${version}: operation ${id}.`);
    } catch (err) {
      onAction(`Switch to ${version} failed: ${describeError(err)}`);
    }
  };

  return (
    <div class="panel">
      <h2>Versions</h2>
      <table class="grid" data-testid="versions">
        <thead>
          <tr>
            <th>Version</th>
            <th>Created</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {versions.map((v) => (
            <tr key={v.version} class={v.version === chosen ? "selected" : ""}>
              <td>
                <button type="button" class="link" onClick={() => (setSelected(v.version), setBase(undefined))}>
                  {v.version}
                </button>
                {v.isActive && <span class="badge active">active</span>}
              </td>
              <td>{time(v.createdAt)}</td>
              <td>
                {canAct && !v.isActive && (
                  <button type="button" onClick={() => switchTo(v.version)} data-testid={`switch-${v.version}`}>
                    Switch to
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {chosen && (
        <div class="diff" data-testid="version-diff">
          {versions.length < 2 ? (
            // A single version has nothing to be compared with: no empty "from" list.
            <h3>Changes in {chosen}</h3>
          ) : (
            <h3>
              Changes in {chosen} from{" "}
              <select value={against ?? ""} onChange={(e) => setBase((e.currentTarget as HTMLSelectElement).value)}>
                {!against && <option value="">(pick a version)</option>}
                {versions
                  .filter((v) => v.version !== chosen)
                  .map((v) => (
                    <option key={v.version} value={v.version}>
                      {v.version}
                    </option>
                  ))}
              </select>
            </h3>
          )}
          {!against && <p class="muted">The first version: nothing to compare with.</p>}
          {against && !diff && <p class="muted">Comparing…</p>}
          {diff && "error" in diff && <p class="error">{diff.error}</p>}
          {diff && "changes" in diff && diff.changes.length === 0 && <p class="muted">No differences.</p>}
          {diff && "changes" in diff && diff.changes.length > 0 && (
            <table class="grid small">
              <thead>
                <tr>
                  <th>Field</th>
                  <th>{against}</th>
                  <th>{chosen}</th>
                </tr>
              </thead>
              <tbody>
                {diff.changes.map((c) => (
                  <tr key={c.path}>
                    <td class="mono">{c.path}</td>
                    <td class="mono removed">{c.before ?? "—"}</td>
                    <td class="mono added">{c.after ?? "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      )}
    </div>
  );
}
