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
import type { MaestroContext } from "../wiring/maestro-context.js";
import { readyOrThrow } from "../wiring/readiness.js";
import { closeGracefully } from "./close-gracefully.js";
import { listen } from "./listen.js";
import type { MaestroModule } from "./module.js";

export function managementApiModule(ctx: MaestroContext): MaestroModule & { url?: string } {
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
              usage: ctx.runtime.roomUsage && ((s, o) => ctx.runtime.roomUsage?.(s, o) ?? Promise.resolve([])),
              roomLog: ctx.runtime.roomLog?.bind(ctx.runtime),
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
      const roomUsage = ctx.runtime.roomUsage?.bind(ctx.runtime);
      const history = new RoomHistorySampler({
        rooms: ctx.rooms,
        schedulers: ctx.schedulerStorage,
        clock: ctx.clock,
        logger,
        usage:
          roomUsage &&
          (async (name, signal) => roomUsage(await ctx.schedulerStorage.getScheduler(name, { signal }), { signal })),
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
