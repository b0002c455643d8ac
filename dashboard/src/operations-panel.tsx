import type { ListOperationItem } from "@maestro/sdk-management/web";
import { useState } from "preact/hooks";
import { describeError, type Session } from "./api.js";
import { ErrorNote } from "./error-note.js";
import { time } from "./format.js";
import { usePoll } from "./use-poll.js";

export interface OperationLists {
  pending: ListOperationItem[];
  active: ListOperationItem[];
  final: ListOperationItem[];
  finalTotal: number | undefined;
}

interface Props {
  session: Session;
  scheduler: string;
  lists: OperationLists;
  canAct: boolean;
  onAction(message: string): void;
}

const stages = ["active", "pending", "final"] as const;
const stageTitles = { active: "Active", pending: "Pending", final: "Final" };

/** Operations by stage; a row opens the operation's history; pending and active ones can be canceled. */
export function OperationsPanel({ session, scheduler, lists, canAct, onAction }: Props) {
  const [open, setOpen] = useState<string | undefined>(undefined);
  const cancel = async (op: ListOperationItem) => {
    if (!confirm(`Cancel ${op.definitionName} ${op.id}?`)) return;
    try {
      await session.client.operations.cancel(scheduler, op.id);
      onAction(`Cancel requested for ${op.definitionName} ${op.id}.`);
    } catch (err) {
      onAction(`Cancel of ${op.id} failed: ${describeError(err)}`);
    }
  };
  return (
    <div class="panel">
      <h2>Operations</h2>
      {stages.map((stage) => (
        <div key={stage} data-testid={`operations-${stage}`}>
          <h3>
            {stageTitles[stage]} ({stage === "final" ? (lists.finalTotal ?? lists.final.length) : lists[stage].length})
            {stage === "final" && lists.finalTotal !== undefined && lists.finalTotal > lists.final.length
              ? `, newest ${lists.final.length} shown`
              : ""}
          </h3>
          {lists[stage].length === 0 ? (
            <p class="muted small">None.</p>
          ) : (
            <table class="grid">
              <thead>
                <tr>
                  <th>Operation</th>
                  <th>Status</th>
                  <th>Created</th>
                  <th>Lease until</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {lists[stage].map((op) => (
                  <OperationRow
                    key={op.id}
                    op={op}
                    session={session}
                    scheduler={scheduler}
                    open={open === op.id}
                    onToggle={() => setOpen(open === op.id ? undefined : op.id)}
                    onCancel={canAct && stage !== "final" ? () => cancel(op) : undefined}
                  />
                ))}
              </tbody>
            </table>
          )}
        </div>
      ))}
    </div>
  );
}

function OperationRow(props: {
  op: ListOperationItem;
  session: Session;
  scheduler: string;
  open: boolean;
  onToggle(): void;
  onCancel: (() => void) | undefined;
}) {
  const { op, open } = props;
  return (
    <>
      <tr data-testid={`operation-${op.id}`} data-status={op.status}>
        <td>
          <button type="button" class="link" onClick={props.onToggle}>
            {op.definitionName}
          </button>
          <div class="mono small muted">{op.id}</div>
        </td>
        <td>
          <span class={`op-status op-${op.status}`}>{op.status}</span>
        </td>
        <td>{time(op.createdAt)}</td>
        <td>{op.lease?.ttl ? new Date(op.lease.ttl).toLocaleTimeString() : ""}</td>
        <td>
          {props.onCancel && (
            <button type="button" class="danger" onClick={props.onCancel} data-testid={`cancel-${op.id}`}>
              Cancel
            </button>
          )}
        </td>
      </tr>
      {open && (
        <tr>
          <td colSpan={5}>
            <OperationDetail session={props.session} scheduler={props.scheduler} id={op.id} />
          </td>
        </tr>
      )}
    </>
  );
}

/** The operation's history, followed live while it is open. */
function OperationDetail({ session, scheduler, id }: { session: Session; scheduler: string; id: string }) {
  const { data, error } = usePoll((signal) => session.client.operations.get(scheduler, id, { signal }), `op/${id}`);
  if (!data) return error ? <ErrorNote error={error} /> : <p class="muted">Loading…</p>;
  return (
    <>
      <ErrorNote error={error} />
      <ol class="history" data-testid={`history-${id}`}>
        {data.executionHistory.map((e, i) => (
          <li key={i}>
            <span class="muted small">{time(e.createdAt)}</span> {e.event}
          </li>
        ))}
        {data.executionHistory.length === 0 && <li class="muted">No events yet.</li>}
      </ol>
    </>
  );
}
