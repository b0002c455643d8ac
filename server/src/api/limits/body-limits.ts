import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

export type Protocol = "rest" | "connect" | "grpcWeb" | "grpc";

export interface BodyLimits {
  restBodyBytes: number;
  connectBodyBytes: number;
  grpcWebBodyBytes: number;
  grpcBodyBytes: number;
}

const settingOf: Record<Protocol, keyof BodyLimits> = {
  rest: "restBodyBytes",
  connect: "connectBodyBytes",
  grpcWeb: "grpcWebBodyBytes",
  grpc: "grpcBodyBytes",
};

/**
 * Refuses a request whose declared body is over its protocol's limit before a byte of it is read and before the
 * token is looked at, so tokenless giant bodies cost neither memory nor work. Bodies without a length are bounded
 * while they are read (Fastify's bodyLimit for REST, the Connect router's readMaxBytes for the others).
 */
export function registerBodyLimits(app: FastifyInstance, limits: BodyLimits, connectPaths: ReadonlySet<string>): void {
  // Under every protocol's limit there is no need to work out the protocol (most requests, pings included).
  const smallest = Math.min(...Object.values(settingOf).map((setting) => limits[setting]));
  app.addHook("onRequest", (req, reply, done) => {
    const length = req.headers["content-length"];
    if (length === undefined) return done();
    const declared = Number(length);
    if (!Number.isFinite(declared) || declared <= smallest) return done();
    const protocol = protocolOf(req, connectPaths);
    const setting = settingOf[protocol];
    const max = limits[setting];
    if (declared <= max) return done();
    refuse(
      req,
      reply,
      protocol,
      `request body of ${declared} bytes is over the limit of ${max} bytes (limits.${setting})`,
    );
  });
}

export function protocolOf(req: FastifyRequest, connectPaths: ReadonlySet<string>): Protocol {
  const type = String(req.headers["content-type"] ?? "");
  if (type.startsWith("application/grpc-web")) return "grpcWeb";
  if (type.startsWith("application/grpc")) return "grpc";
  const path = req.url.split("?", 1)[0] ?? "";
  return connectPaths.has(path) ? "connect" : "rest";
}

function refuse(req: FastifyRequest, reply: FastifyReply, protocol: Protocol, message: string): void {
  if (protocol === "grpc" || protocol === "grpcWeb") {
    // gRPC clients read the status from headers: a trailers-only response with RESOURCE_EXHAUSTED.
    const type = protocol === "grpc" ? "application/grpc" : "application/grpc-web+proto";
    void reply
      .code(200)
      .header("content-type", type)
      .header("grpc-status", "8")
      .header("grpc-message", encodeURIComponent(message))
      .send();
    return;
  }
  // The unread body stays on the socket: this connection cannot carry another request.
  if (req.raw.httpVersionMajor === 1) void reply.header("connection", "close");
  if (protocol === "connect") {
    void reply.code(413).type("application/json").send({ code: "resource_exhausted", message });
    return;
  }
  void reply.code(413).send({ code: 8 /* ResourceExhausted */, message, details: [] });
}
