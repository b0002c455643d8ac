import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  type GetSchedulerResponse,
  GetSchedulerResponseSchema,
  type ListSchedulersResponse,
  ListSchedulersResponseSchema,
  type SchedulersService,
} from "@maestro/proto";
import type { Scheduler } from "../../core/entities/scheduler.js";
import type { Clock } from "../../core/ports/clock.js";
import type { SchedulerManager } from "../../core/services/scheduler-manager.js";
import {
  schedulerFromRequest,
  schedulerInfoToPb,
  schedulerPatchFromRequest,
  schedulerToPb,
  schedulerVersionToPb,
  schedulerWithoutSpecToPb,
} from "../convert/scheduler-convert.js";
import { handle } from "../errors.js";

export interface SchedulersServiceDeps {
  schedulers: SchedulerManager;
  clock: Clock;
  /** Called after a scheduler is created or deleted, so in-process workers pick it up without waiting for a sync. */
  onSchedulersChanged?: () => void;
}

/** RPCs left out here are answered by Connect with Unimplemented. */
export function schedulersService(d: SchedulersServiceDeps): Partial<ServiceImpl<typeof SchedulersService>> {
  const opts = (signal: AbortSignal) => ({ signal });
  // The scheduler read cache hands out the same Scheduler and list objects until a scheduler changes anywhere, so an
  // answer is built once per such object (and, being the same message, encoded once: see encodedGetAnswer in api/rest/transcoder.ts).
  const gets = new WeakMap<Scheduler, GetSchedulerResponse>();
  const lists = new WeakMap<Scheduler[], ListSchedulersResponse>();
  return {
    listSchedulers: (req, ctx) =>
      handle(async () => {
        const list = await d.schedulers.listSchedulers(
          { name: req.name || undefined, game: req.game || undefined, version: req.version || undefined },
          opts(ctx.signal),
        );
        let answer = lists.get(list);
        if (answer === undefined) {
          answer = create(ListSchedulersResponseSchema, { schedulers: list.map(schedulerWithoutSpecToPb) });
          lists.set(list, answer);
        }
        return answer;
      }),
    getScheduler: (req, ctx) =>
      handle(async () => {
        const scheduler = await d.schedulers.getScheduler(
          req.schedulerName,
          req.version || undefined,
          opts(ctx.signal),
        );
        let answer = gets.get(scheduler);
        if (answer === undefined) {
          answer = create(GetSchedulerResponseSchema, { scheduler: schedulerToPb(scheduler) });
          gets.set(scheduler, answer);
        }
        return answer;
      }),
    createScheduler: (req, ctx) =>
      handle(async () => {
        const created = await d.schedulers.createScheduler(schedulerFromRequest(req, d.clock.now()), opts(ctx.signal));
        d.onSchedulersChanged?.();
        return { scheduler: schedulerToPb(created) };
      }),
    newSchedulerVersion: (req, ctx) =>
      handle(async () => ({
        operationId: (
          await d.schedulers.newSchedulerVersion(schedulerFromRequest(req, d.clock.now()), opts(ctx.signal))
        ).id,
      })),
    patchScheduler: (req, ctx) =>
      handle(async () => ({
        operationId: (await d.schedulers.patchScheduler(req.name, schedulerPatchFromRequest(req), opts(ctx.signal))).id,
      })),
    switchActiveVersion: (req, ctx) =>
      handle(async () => ({
        operationId: (await d.schedulers.switchActiveVersion(req.schedulerName, req.version, opts(ctx.signal))).id,
      })),
    getSchedulerVersions: (req, ctx) =>
      handle(async () => ({
        versions: (await d.schedulers.listVersions(req.schedulerName, opts(ctx.signal))).map(schedulerVersionToPb),
      })),
    getSchedulersInfo: (req, ctx) =>
      handle(async () => ({
        schedulers: (await d.schedulers.getSchedulersInfo(req.game || undefined, opts(ctx.signal))).map(
          schedulerInfoToPb,
        ),
      })),
    deleteScheduler: (req, ctx) =>
      handle(async () => {
        const op = await d.schedulers.deleteScheduler(req.schedulerName, opts(ctx.signal));
        return { operationId: op.id };
      }),
    addRooms: (req, ctx) =>
      handle(async () => ({
        operationId: (await d.schedulers.addRooms(req.schedulerName, req.amount, opts(ctx.signal))).id,
      })),
    removeRooms: (req, ctx) =>
      handle(async () => ({
        operationId: (await d.schedulers.removeRooms(req.schedulerName, req.amount, opts(ctx.signal))).id,
      })),
  };
}
