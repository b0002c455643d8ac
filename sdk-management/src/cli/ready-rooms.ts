import type { RoomsCrashing, SchedulerInfo } from "@maestro/proto";
import type { MaestroClient } from "../client.js";
import { MaestroClientError } from "../errors.js";
import { abortableSleep } from "../polling.js";
import type { Style } from "./output.js";
import { crashLine } from "./render.js";

const BAR_WIDTH = 24;
/** One crash can be bad luck; a second one of the same version is a pattern worth stopping for. */
const CRASHES_TO_GIVE_UP = 2;
const LOG_TAIL_LINES = 20;

/** The reason the rooms crash, with the end of the last one's log when the server kept it. */
async function crashError(
  client: MaestroClient,
  scheduler: string,
  c: RoomsCrashing,
  signal: AbortSignal,
): Promise<MaestroClientError> {
  const log = await client.rooms
    .log(scheduler, c.lastRoomId, { tailLines: LOG_TAIL_LINES, signal })
    .then((r) => r.log)
    .catch(() => "");
  const lines = [`rooms of ${scheduler} keep crashing: ${crashLine(c)}`];
  if (log)
    lines.push(
      `last ${LOG_TAIL_LINES} lines of ${c.lastRoomId}'s log:`,
      ...log
        .trimEnd()
        .split("\n")
        .map((l) => `  ${l}`),
    );
  lines.push(`(maestroctl rooms logs ${scheduler} ${c.lastRoomId} shows more)`);
  return new MaestroClientError("failed_precondition", lines.join("\n"));
}

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
        // Rooms that keep crashing never come up: say why now instead of drawing 0/N for ever.
        if (info.roomsCrashing && info.roomsCrashing.crashes >= CRASHES_TO_GIVE_UP) {
          if (tty) out.stream.write("\n");
          last = "";
          throw await crashError(client, scheduler.name, info.roomsCrashing, signal);
        }
      }
      await abortableSleep(pollIntervalMs, signal);
    }
  } finally {
    if (tty && last) out.stream.write("\n");
  }
}
