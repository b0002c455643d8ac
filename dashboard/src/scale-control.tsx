import { useState } from "preact/hooks";
import { describeError, type Session } from "./api.js";

/** Add or remove rooms (write tokens only): each click enqueues an add_rooms / remove_rooms operation. */
export function ScaleControl(props: { session: Session; scheduler: string; onAction(message: string): void }) {
  const [amount, setAmount] = useState(1);
  const act = async (kind: "add" | "remove") => {
    const rooms = `${amount} room${amount === 1 ? "" : "s"}`;
    try {
      const api = props.session.client.schedulers;
      const id =
        kind === "add" ? await api.addRooms(props.scheduler, amount) : await api.removeRooms(props.scheduler, amount);
      props.onAction(`${kind === "add" ? "Adding" : "Removing"} ${rooms}: operation ${id}.`);
    } catch (err) {
      props.onAction(`${kind === "add" ? "Adding" : "Removing"} ${rooms} failed: ${describeError(err)}`);
    }
  };
  return (
    <span class="scale" data-testid="scale">
      <input
        type="number"
        min={1}
        value={amount}
        aria-label="number of rooms"
        onInput={(e) => setAmount(Math.max(1, Number((e.currentTarget as HTMLInputElement).value) || 1))}
      />
      <button type="button" onClick={() => act("add")}>
        Add rooms
      </button>
      <button type="button" onClick={() => act("remove")}>
        Remove rooms
      </button>
    </span>
  );
}
