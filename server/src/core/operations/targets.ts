import type { RoomStatusName } from "../entities/game-room.js";
import type { Operation } from "../entities/operation.js";
import type { CallOptions } from "../ports/call-options.js";
import type { OperationContext } from "./definition.js";
import type { OperationServices } from "./services.js";

/**
 * Targets an operation (a scaling, a version change) fixes on its first run and writes to its history before acting
 * on them. A re-run (its worker stopped mid-way and recovery queued it again) reads them back and converges to them, so
 * an accepted request completes once instead of failing or acting twice. The history line is the record: it is written under the
 * operation's lease, in the same store as its status.
 */
export type TargetName = "roomsReplicas" | "rooms" | "version";

export interface Target<T = number> {
  from: T;
  to: T;
}

export async function writeTarget(
  ctx: OperationContext,
  name: TargetName,
  target: Target<number | string>,
): Promise<void> {
  await ctx.history(`${name} target: ${target.to} (from ${target.from})`);
}

/** The target an earlier run of this operation wrote, as written. */
export function readTargetText(op: Pick<Operation, "executionHistory">, name: TargetName): Target<string> | undefined {
  const pattern = new RegExp(`^${name} target: (\\S+) \\(from (\\S+)\\)$`);
  for (let i = op.executionHistory.length - 1; i >= 0; i--) {
    const m = pattern.exec(op.executionHistory[i]?.event ?? "");
    if (m) return { to: m[1] as string, from: m[2] as string };
  }
  return undefined;
}

/** The count an earlier run of this operation fixed, if any. */
export function readTarget(op: Pick<Operation, "executionHistory">, name: TargetName): Target | undefined {
  const text = readTargetText(op, name);
  return text && { to: Number(text.to), from: Number(text.from) };
}

/** The count an earlier run fixed, or `initial`, written now as this run's (the first run's) target. */
export async function fixTarget(ctx: OperationContext, name: TargetName, initial: () => Target): Promise<Target> {
  const earlier = readTarget(ctx.operation, name);
  if (earlier) return earlier;
  const target = initial();
  await writeTarget(ctx, name, target);
  return target;
}

const leaving: readonly RoomStatusName[] = ["terminating", "terminated", "error"];

/** Rooms that stay: every room of the scheduler but those on their way out. */
export async function stayingRooms(s: Pick<OperationServices, "rooms">, name: string, opts: CallOptions) {
  const counts = await s.rooms.countByStatus(name, opts);
  let n = 0;
  for (const [status, count] of Object.entries(counts)) if (!leaving.includes(status as RoomStatusName)) n += count;
  return n;
}
