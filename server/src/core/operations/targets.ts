import type { RoomStatusName } from "../entities/game-room.js";
import type { Operation } from "../entities/operation.js";
import type { CallOptions } from "../ports/call-options.js";
import type { OperationContext } from "./definition.js";
import type { OperationServices } from "./services.js";

/**
 * Targets a scaling operation fixes on its first run and writes to its history before acting on them. A re-run (its
 * worker stopped mid-way and recovery queued it again) reads them back and converges to them, so an accepted request
 * completes once instead of failing or acting twice. The history line is the record: it is written under the
 * operation's lease, in the same store as its status.
 */
export type TargetName = "roomsReplicas" | "rooms";

export interface Target {
  from: number;
  to: number;
}

export async function writeTarget(ctx: OperationContext, name: TargetName, target: Target): Promise<void> {
  await ctx.history(`${name} target: ${target.to} (from ${target.from})`);
}

/** The target an earlier run of this operation wrote, if any. */
export function readTarget(op: Pick<Operation, "executionHistory">, name: TargetName): Target | undefined {
  const pattern = new RegExp(`^${name} target: (\\d+) \\(from (\\d+)\\)$`);
  for (let i = op.executionHistory.length - 1; i >= 0; i--) {
    const m = pattern.exec(op.executionHistory[i]?.event ?? "");
    if (m) return { to: Number(m[1]), from: Number(m[2]) };
  }
  return undefined;
}

const leaving: readonly RoomStatusName[] = ["terminating", "terminated", "error"];

/** Rooms that stay: every room of the scheduler but those on their way out. */
export async function stayingRooms(s: Pick<OperationServices, "rooms">, name: string, opts: CallOptions) {
  const counts = await s.rooms.countByStatus(name, opts);
  let n = 0;
  for (const [status, count] of Object.entries(counts)) if (!leaving.includes(status as RoomStatusName)) n += count;
  return n;
}
