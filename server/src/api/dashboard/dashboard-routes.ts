import { existsSync } from "node:fs";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Authorizer, Role } from "../auth/management-auth.js";
import type { RoomHistorySampler } from "./room-history.js";
import { findDashboardDist, readStaticFile } from "./static-files.js";

export interface DashboardRouteOptions {
  authorizer: Authorizer;
  history: RoomHistorySampler;
  /** The built dashboard; defaults to the installed @maestro/dashboard package. */
  distDir?: string | undefined;
}

const notBuilt =
  "The Maestro dashboard is not built. Build it with `npm run build -w @maestro/dashboard` (or `npm run build`) " +
  "and reload this page.\n";

// The dashboard holds a management token: only its own scripts may run, it talks only to this server, no framing.
const contentSecurityPolicy =
  "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'";

/**
 * The operators' web dashboard at /ui (static files), plus the two JSON routes it needs that are not part of
 * Maestro's API: the caller's role, and the rooms-by-status history of a scheduler.
 */
export function registerDashboardRoutes(app: FastifyInstance, opts: DashboardRouteOptions): void {
  const distDir = opts.distDir ?? findDashboardDist();

  /** Answers 401 (shaped like the REST API's errors) and returns undefined when the caller has no valid token. */
  const roleOf = (req: FastifyRequest, reply: FastifyReply): Role | undefined => {
    const role = opts.authorizer.role(req.headers.authorization);
    if (!role) {
      void reply.code(401).send({
        code: Code.Unauthenticated,
        message: req.headers.authorization ? "unknown management API token" : "a management API token is required",
      });
    }
    return role;
  };

  app.get("/ui/api/whoami", async (req, reply) => {
    const role = roleOf(req, reply);
    if (!role) return reply;
    return { role, tokensRequired: !opts.authorizer.open };
  });

  app.get<{ Params: { name: string } }>("/ui/api/schedulers/:name/room-history", async (req, reply) => {
    if (!roleOf(req, reply)) return reply;
    return { intervalSeconds: opts.history.intervalMs / 1000, samples: await opts.history.history(req.params.name) };
  });

  app.get("/ui", async (_req, reply) => reply.redirect("/ui/"));
  // Browsers ask for /favicon.ico whatever the page says; the dashboard's icon answers instead of a 404.
  app.get("/favicon.ico", async (_req, reply) => {
    const file = distDir ? await readStaticFile(distDir, "favicon.svg") : undefined;
    // Without the icon, readStaticFile answers index.html (the app's fallback), which is no icon.
    if (file?.contentType !== "image/svg+xml") {
      return reply.code(404).type("text/plain; charset=utf-8").send("Not found\n");
    }
    return reply.type(file.contentType).header("cache-control", "public, max-age=86400").send(file.body);
  });
  app.get<{ Params: { "*": string } }>("/ui/*", async (req, reply) => {
    if (!distDir || !existsSync(join(distDir, "index.html"))) {
      return reply.code(503).type("text/plain; charset=utf-8").send(notBuilt);
    }
    const file = await readStaticFile(distDir, req.params["*"]);
    if (!file) return reply.code(404).type("text/plain; charset=utf-8").send("Not found\n");
    return reply
      .type(file.contentType)
      .header("cache-control", file.immutable ? "public, max-age=31536000, immutable" : "no-cache")
      .header("x-content-type-options", "nosniff")
      .header("content-security-policy", contentSecurityPolicy)
      .send(file.body);
  });
}
