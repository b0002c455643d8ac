import { delay } from "../../delay.js";
import type { RoomStatusName } from "../../entities/game-room.js";
import type { Scheduler } from "../../entities/scheduler.js";
import { MaestroError } from "../../errors.js";
import { failpoint } from "../../failpoints.js";
import type { OperationContext } from "../definition.js";
import type { OperationServices } from "../services.js";

/** Why a validation room is deleted after its attempt (also the removal reason the runtime records). */
export const VALIDATION_FINISHED_REASON = "new_version_validation_finished";

/** Re-read interval while waiting, in case a status change happens without an event (e.g. the room disappears). */
const RECHECK_MS = 250;

type Outcome =
  | { kind: "ready" }
  | { kind: "error"; roomId: string; lastEvent: string }
  | { kind: "timeout"; roomId: string }
  | { kind: "failed"; message: string };

/**
 * Maestro's game room validation for a major version: start a room of the new version, wait until it is ready, always
 * delete it, and try up to `attempts` times. Throws when every attempt failed; history tells each attempt's fate.
 */
export async function validateWithRoom(
  s: OperationServices,
  ctx: OperationContext,
  scheduler: Scheduler,
): Promise<void> {
  await ctx.history("Major version detected, starting game room validation process...");
  const attempts = Math.max(1, s.validation.attempts);
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const outcome = await tryOnce(s, ctx, scheduler);
    if (outcome.kind === "ready") {
      await ctx.history(`${attempt}º Attempt: Game room validation success!`);
      return;
    }
    await ctx.history(`${attempt}º Attempt: ${describe(outcome)}`);
  }
  await ctx.history("All validation attempts have failed, operation aborted!");
  throw new MaestroError(
    "failed_precondition",
    `game room validation failed after ${attempts} attempt(s): rooms of version ${scheduler.spec.version} did not become ready`,
  );
}

async function tryOnce(s: OperationServices, ctx: OperationContext, scheduler: Scheduler): Promise<Outcome> {
  let roomId: string;
  try {
    roomId = (await s.roomManager.createRoom(scheduler, { signal: ctx.signal, isValidationRoom: true })).room.id;
  } catch (err) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    return { kind: "failed", message: MaestroError.from(err).message };
  }
  try {
    const outcome = await waitUntilSettled(s, ctx, scheduler.name, roomId);
    await failpoint("validation/room-settled");
    return outcome;
  } finally {
    // No signal: a canceled operation must still remove the room it started.
    await s.roomManager
      .deleteRoom(scheduler.name, roomId, VALIDATION_FINISHED_REASON)
      .catch((err: unknown) =>
        s.logger.warn({ err, scheduler: scheduler.name, room: roomId }, "could not delete the validation room"),
      );
  }
}

async function waitUntilSettled(
  s: OperationServices,
  ctx: OperationContext,
  schedulerName: string,
  roomId: string,
): Promise<Outcome> {
  const stop = new AbortController();
  const timeout = AbortSignal.timeout(s.validation.timeoutMs);
  const signal = AbortSignal.any([ctx.signal, timeout, stop.signal]);
  // Subscribed before the first read, so a change between the read and the wait is not missed.
  const events = s.rooms.watchRoomStatus(schedulerName, { signal })[Symbol.asyncIterator]();
  const nextEvent = () =>
    events.next().then(
      (r) => (r.done ? ("closed" as const) : ("event" as const)),
      () => "closed" as const,
    );
  let pending: Promise<"event" | "closed"> = nextEvent();
  try {
    for (;;) {
      const outcome = await check(s, schedulerName, roomId);
      if (outcome) return outcome;
      const woke = await Promise.race([pending, delay(RECHECK_MS, signal).then(() => "tick" as const)]);
      if (ctx.signal.aborted) throw ctx.signal.reason;
      if (timeout.aborted) {
        // The room may have made it in the last instant.
        return (await check(s, schedulerName, roomId)) ?? { kind: "timeout", roomId };
      }
      // A watch that ended leaves the periodic re-read in charge.
      if (woke === "event") pending = nextEvent();
      else if (woke === "closed") pending = new Promise(() => undefined);
    }
  } finally {
    stop.abort();
    await events.return?.().catch(() => undefined);
  }
}

async function check(s: OperationServices, schedulerName: string, roomId: string): Promise<Outcome | undefined> {
  const room = await s.rooms.getRoom(schedulerName, roomId);
  const status: RoomStatusName | undefined = room?.status;
  if (status === "ready") return { kind: "ready" };
  if (status === "error" || status === undefined || status === "terminating" || status === "terminated") {
    const instance = await s.instances.getInstance(schedulerName, roomId);
    const lastEvent =
      instance?.status.description || (status === undefined ? "the room is gone" : `the room is ${status}`);
    return { kind: "error", roomId, lastEvent };
  }
  return undefined;
}

function describe(outcome: Exclude<Outcome, { kind: "ready" }>): string {
  switch (outcome.kind) {
    case "timeout":
      return `Got timeout waiting for the GRU with ID: ${outcome.roomId} to be ready. You can check if the GRU image is stable on its logs.`;
    case "error":
      return (
        `The room created for validation with ID ${outcome.roomId} is entering in error state. You can check if the GRU ` +
        `image is stable on its logs using the provided room id. Last event in the game room: ${JSON.stringify(outcome.lastEvent)}.`
      );
    case "failed":
      return `Could not create the validation room: ${outcome.message}`;
  }
}
