import { RoomsService } from "@maestro/proto";
import { createRoomsAuthorizer } from "../api/auth/rooms-auth.js";
import { createHttpApp } from "../api/http/create-http-app.js";
import { fastPingRoute } from "../api/rest/fast-ping-route.js";
import { bind } from "../api/service-binding.js";
import { roomPing, roomsService } from "../api/services/rooms-service.js";
import { SchedulerCache } from "../core/services/scheduler-cache.js";
import type { MaestroContext } from "../wiring/maestro-context.js";
import { readyOrThrow } from "../wiring/readiness.js";
import { closeGracefully } from "./close-gracefully.js";
import { listen } from "./listen.js";
import type { MaestroModule } from "./module.js";

/** How stale a scheduler may be on the ping path (Maestro: schedulerCacheTTLMillis, 2 min); version changes are rare. */
const SCHEDULER_CACHE_TTL_MS = 10_000;

/** What the rooms API reads from the composition root (parts: `moduleParts["rooms-api"]`): no runtime, no operations. */
export type RoomsApiContext = Pick<
  MaestroContext,
  | "config"
  | "logger"
  | "clock"
  | "events"
  | "schedulerStorage"
  | "rooms"
  | "instances"
  | "tokens"
  | "roomManager"
  | "eventsService"
  | "readiness"
  | "metrics"
  | "roomsApiUrl"
>;

export function roomsApiModule(ctx: RoomsApiContext): MaestroModule & { url?: string } {
  let close: ((deadline: number) => Promise<unknown>) | undefined;
  const mod: MaestroModule & { url?: string } = {
    name: "rooms-api",
    async start() {
      const schedulers = new SchedulerCache(ctx.schedulerStorage, ctx.clock, SCHEDULER_CACHE_TTL_MS);
      // In one process a version switch reaches the cache at once; across processes the TTL bounds staleness.
      const onVersionChanged = (name: string) => schedulers.invalidate(name);
      ctx.events.on("scheduler-version-changed", onVersionChanged);
      const logger = ctx.logger.child({ module: "rooms-api" });
      const { host, matchmakerTokens, roomTokens } = ctx.config.roomsApi;
      const authorizer = createRoomsAuthorizer({
        tokens: roomTokens ? ctx.tokens : undefined,
        matchmakerTokens,
        host,
      });
      const deps = {
        schedulers,
        instances: ctx.instances,
        rooms: ctx.rooms,
        clock: ctx.clock,
        allocationTtlMs: ctx.config.rooms.allocationTtlMs,
        roomManager: ctx.roomManager,
        events: ctx.eventsService,
      };
      const { app } = await createHttpApp({
        authorizer,
        name: "rooms-api",
        ignoreUnknownFields: ctx.config.roomsApi.ignoreUnknownFields,
        bindings: [bind(RoomsService, roomsService(deps))],
        fastRoute: ({ record, limits }) =>
          fastPingRoute({
            ping: roomPing(deps),
            authorizer,
            logger,
            record,
            restBodyBytes: limits.restBodyBytes,
            ignoreUnknownFields: ctx.config.roomsApi.ignoreUnknownFields,
          }),
        logger,
        ready: () => readyOrThrow(ctx.readiness),
        metrics: ctx.metrics,
        limits: ctx.config.limits,
      });
      mod.url = await listen(app, ctx.config.roomsApi.host, ctx.config.roomsApi.port);
      if (!ctx.config.roomsApi.publicUrl) ctx.roomsApiUrl = reachable(mod.url);
      if (!authorizer.matchmakersOpen && !matchmakerTokens.trim()) {
        logger.warn(
          { url: mod.url },
          "no roomsApi.matchmakerTokens: allocation and room addresses are refused to matchmakers (set MAESTRO_ROOMSAPI_MATCHMAKERTOKENS)",
        );
      }
      logger.info(
        { url: mod.url, roomTokens: ctx.config.roomsApi.roomTokens },
        ctx.config.roomsApi.roomTokens
          ? "rooms API listening; rooms must send their MAESTRO_ROOM_TOKEN"
          : "rooms API listening WITHOUT room authentication (Maestro-compatible mode)",
      );
      close = async (deadline) => {
        ctx.events.off("scheduler-version-changed", onVersionChanged);
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

/** A wildcard bind address is not something a room can dial. */
function reachable(url: string): string {
  return url.replace("//0.0.0.0:", "//127.0.0.1:").replace("//[::]:", "//127.0.0.1:");
}
