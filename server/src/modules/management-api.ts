import { GameRoomsService, OperationsService, RoomsService, SchedulersService } from "@maestro/proto";
import { createAuthorizer } from "../api/auth/management-auth.js";
import { registerDashboardRoutes } from "../api/dashboard/dashboard-routes.js";
import { RoomHistorySampler } from "../api/dashboard/room-history.js";
import { createHttpApp } from "../api/http/create-http-app.js";
import { buildOpenApi, registerOpenApiRoute } from "../api/openapi/index.js";
import { bind } from "../api/service-binding.js";
import { gameRoomsService } from "../api/services/game-rooms-service.js";
import { operationsService } from "../api/services/operations-service.js";
import { schedulersService } from "../api/services/schedulers-service.js";
import type { Scheduler } from "../core/entities/scheduler.js";
import { MaestroError } from "../core/errors.js";
import type { MaestroContext } from "../wiring/maestro-context.js";
import { readyOrThrow } from "../wiring/readiness.js";
import { closeGracefully } from "./close-gracefully.js";
import { listen } from "./listen.js";
import type { MaestroModule } from "./module.js";

/** What the management API reads from the composition root (parts: `moduleParts["management-api"]`). */
export type ManagementApiContext = Pick<
  MaestroContext,
  | "config"
  | "logger"
  | "clock"
  | "events"
  | "schedulerManager"
  | "operationManager"
  | "schedulerStorage"
  | "rooms"
  | "instances"
  | "readiness"
  | "metrics"
  | "openRuntime"
  | "openedRuntime"
>;

export function managementApiModule(ctx: ManagementApiContext): MaestroModule & { url?: string } {
  let close: ((deadline: number) => Promise<unknown>) | undefined;
  const mod: MaestroModule & { url?: string } = {
    name: "management-api",
    async start() {
      const logger = ctx.logger.child({ module: "management-api" });
      const { host, readTokens, writeTokens } = ctx.config.managementApi;
      const authorizer = createAuthorizer({ host, readTokens, writeTokens });
      const { app, restRoutes } = await createHttpApp({
        authorizer,
        ignoreUnknownFields: ctx.config.managementApi.ignoreUnknownFields,
        name: "management-api",
        bindings: [
          bind(
            SchedulersService,
            schedulersService({
              schedulers: ctx.schedulerManager,
              clock: ctx.clock,
              onSchedulersChanged: () => ctx.events.emit("schedulers-changed"),
            }),
          ),
          bind(OperationsService, operationsService(ctx.operationManager)),
          bind(
            GameRoomsService,
            gameRoomsService({
              schedulers: ctx.schedulerStorage,
              rooms: ctx.rooms,
              instances: ctx.instances,
              // The runtime opens on the first RPC that needs it: a management API alone holds no runtime watches.
              usage: async (s, o) => {
                const runtime = await ctx.openRuntime();
                return runtime.roomUsage ? runtime.roomUsage(s, o) : [];
              },
              roomLog: async (scheduler, room, tail, o) => {
                const runtime = await ctx.openRuntime();
                if (!runtime.roomLog) throw new MaestroError("failed_precondition", "this runtime keeps no room logs");
                return runtime.roomLog(scheduler, room, tail, o);
              },
            }),
          ),
        ],
        logger,
        ready: () => readyOrThrow(ctx.readiness),
        metrics: ctx.metrics,
        limits: ctx.config.limits,
      });
      registerOpenApiRoute(
        app,
        buildOpenApi([SchedulersService, OperationsService, GameRoomsService, RoomsService], {
          title: "Maestro",
          version: "v1",
          description: "Management API (schedulers, operations, rooms) and the rooms API game rooms call.",
        }),
      );
      // The chart's usage comes from a runtime another module of this process opened; sampling never opens one.
      // Schedulers are listed through the management API's read cache (a Redis GET while none changed anywhere,
      // rather than a SQL list), and a sample's usage takes each scheduler from that list rather than a SQL get per
      // scheduler: a sample every 10 s is most of what an idle management API does.
      let listed = new Map<string, Scheduler>();
      const history = new RoomHistorySampler({
        rooms: ctx.rooms,
        schedulers: {
          listSchedulerNames: async (o) => {
            const schedulers = await ctx.schedulerManager.listSchedulers({}, o);
            listed = new Map(schedulers.map((s) => [s.name, s]));
            return schedulers.map((s) => s.name);
          },
        },
        clock: ctx.clock,
        logger,
        usage: async (name, signal) => {
          const runtime = ctx.openedRuntime();
          if (!runtime?.roomUsage) return [];
          const scheduler = listed.get(name) ?? (await ctx.schedulerManager.getScheduler(name, undefined, { signal }));
          return runtime.roomUsage(scheduler, { signal });
        },
      });
      registerDashboardRoutes(app, { authorizer, history });
      mod.url = await listen(app, host, ctx.config.managementApi.port);
      history.start();
      if (authorizer.open) {
        logger.warn(
          { url: mod.url },
          "management API is open (no tokens configured): anyone on this machine can manage schedulers; it listens on loopback only",
        );
      }
      logger.info(
        { url: mod.url, routes: restRoutes.length },
        "management API listening (REST, Connect, gRPC-Web, gRPC)",
      );
      close = async (deadline) => {
        await history.stop();
        await closeGracefully(app, deadline);
      };
    },
    async stop(deadline = Date.now()) {
      await close?.(deadline);
      close = undefined;
    },
  };
  return mod;
}
