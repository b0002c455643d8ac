import type { SchedulerInfo } from "@maestro/proto";
import type { MaestroClient } from "../client.js";
import { abortableSleep } from "../polling.js";
import type { Style } from "./output.js";

const BAR_WIDTH = 24;

/** Rooms that count towards the fleet being up: ready ones, plus those already playing. */
export function upRooms(info: SchedulerInfo): number {
  return info.roomsReady + info.roomsOccupied;
}

/** `[██████████░░░░░░░░░░░░░░] 2/5 rooms ready`: the bar for a count out of a target. */
export function readyBar(info: SchedulerInfo, style: Style): string {
  const target = Math.max(info.roomsReplicas, 0);
  const up = upRooms(info);
  const filled = target === 0 ? BAR_WIDTH : Math.min(BAR_WIDTH, Math.round((up / target) * BAR_WIDTH));
  const bar = `${"█".repeat(filled)}${style.dim("░".repeat(BAR_WIDTH - filled))}`;
  const busy = info.roomsOccupied > 0 ? `, ${info.roomsOccupied} occupied` : "";
  const pending = info.roomsPending > 0 ? `, ${info.roomsPending} pending` : "";
  return `[${bar}] ${up}/${target} rooms up (${info.roomsReady} ready${busy}${pending})`;
}

/**
 * Polls the scheduler's room counts until its rooms are up (ready or occupied) as many as its replicas, drawing a
 * progress bar on stderr: redrawn in place on a terminal, one line per change otherwise.
 */
export async function waitForReadyRooms(
  client: MaestroClient,
  scheduler: { name: string; game: string },
  out: { stream: NodeJS.WriteStream; style: Style },
  signal: AbortSignal,
  pollIntervalMs = 500,
): Promise<SchedulerInfo> {
  const tty = out.stream.isTTY === true;
  let last = "";
  try {
    for (;;) {
      const info = (await client.schedulers.info(scheduler.game, { signal })).find((s) => s.name === scheduler.name);
      if (info) {
        const line = readyBar(info, out.style);
        if (tty) out.stream.write(`\r\x1b[2K${line}`);
        else if (line !== last) out.stream.write(`${line}\n`);
        last = line;
        if (upRooms(info) >= info.roomsReplicas) return info;
      }
      await abortableSleep(pollIntervalMs, signal);
    }
  } finally {
    if (tty && last) out.stream.write("\n");
  }
}
