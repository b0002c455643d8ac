import {
  create,
  type DescMessage,
  type DescMethod,
  type DescService,
  fromJson,
  getOption,
  isMessage,
  type Message,
  toJson,
} from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { describeUnknownJsonFields, http, unknownJsonFields } from "@maestro/proto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "../../core/ports/logger.js";
import type { RpcAuthorizer } from "../auth/rpc-authorizer.js";
import { httpStatusOf, toConnectError } from "../errors.js";
import { etagOf, matchesIfNoneMatch } from "../http/etag.js";
import { refuseNulBytes } from "../limits/nul-bytes.js";
import type { ServiceBinding } from "../service-binding.js";
import { normalizeDurations } from "./json-input.js";
import { refuseEmptyPatchLists } from "./patch-input.js";
import { restHandlerContext } from "./rest-handler-context.js";

export interface RestRoute {
  method: string;
  url: string;
  rpc: string;
}

type UnaryHandler = (req: Message, ctx: HandlerContext) => Promise<unknown> | unknown;

/**
 * REST/JSON from the protos' google.api.http rules (what grpc-gateway did for Maestro). Each route calls the very same
 * service implementation as Connect and gRPC, directly (no re-encoding on the ping hot path), with a handler context
 * of its own, so validation and errors are identical on every protocol.
 */
export function registerRestRoutes(
  app: FastifyInstance,
  bindings: readonly ServiceBinding[],
  logger: Logger,
  authorizer?: RpcAuthorizer,
  bodyLimit = 4 * 1024 * 1024,
  opts: { ignoreUnknownFields?: boolean } = {},
): RestRoute[] {
  const table: RestRoute[] = [];
  // Maestro's clients (curl --data-raw, maestro-client) often send JSON without a JSON content type: read any body.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string", bodyLimit }, (_req, body, done) => done(null, body));
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    if (err.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      const message = `request body is over the limit of ${bodyLimit} bytes (limits.restBodyBytes)`;
      void reply.code(413).send({ code: Code.ResourceExhausted, message, details: [] });
      return;
    }
    const code = err.statusCode && err.statusCode < 500 ? Code.InvalidArgument : Code.Internal;
    void reply.code(err.statusCode ?? 500).send({ code, message: err.message, details: [] });
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ code: Code.NotFound, message: `no route for ${req.method} ${req.url}`, details: [] });
  });

  for (const { service, impl } of bindings) {
    for (const method of service.methods) {
      if (method.methodKind !== "unary") continue;
      const rule = getOption(method, http);
      const verb = rule.pattern.case;
      if (!verb || verb === "custom" || typeof rule.pattern.value !== "string") continue;
      const url = rule.pattern.value.replace(/\{([\w.]+)(?:=\*)?\}/g, ":$1");
      const handler = (impl as Record<string, UnaryHandler | undefined>)[method.localName];
      const route: RouteSpec = {
        service,
        method,
        bodyRule: rule.body,
        handler,
        hasDurations: hasDurationField(method.input),
        hasQueryFields: method.input.fields.length > 0,
      };
      table.push({ method: verb.toUpperCase(), url, rpc: `${service.typeName}/${method.name}` });
      app.route({
        method: verb.toUpperCase() as "GET",
        url,
        handler: (req, reply) => invoke(route, req, reply, logger, authorizer, opts.ignoreUnknownFields === true),
      });
    }
  }
  return table;
}

/** What a route needs per request, worked out once when it is registered. */
interface RouteSpec {
  service: DescService;
  method: DescMethod;
  bodyRule: string;
  handler: UnaryHandler | undefined;
  /** Whether the input holds a Duration that Maestro clients may send as bare seconds (see normalizeDurations). */
  hasDurations: boolean;
  hasQueryFields: boolean;
}

async function invoke(
  route: RouteSpec,
  req: FastifyRequest,
  reply: FastifyReply,
  logger: Logger,
  authorizer: RpcAuthorizer | undefined,
  ignoreUnknownFields: boolean,
): Promise<unknown> {
  const { service, method, handler } = route;
  try {
    if (!handler) throw new ConnectError(`${service.typeName}.${method.name} is not implemented`, Code.Unimplemented);
    const { json, input } = decodeRestInput(
      route,
      req.query as Record<string, unknown>,
      req.body,
      req.params as Record<string, string>,
      ignoreUnknownFields,
    );
    // After decoding, as Connect's interceptor sees it: rules may depend on the request (a room's own token).
    authorizer?.check(method, req.headers.authorization, input);
    refuseNulBytes(json);
    refuseEmptyPatchLists(method, json);
    const ctx = restHandlerContext(route, req, reply);
    const output = await handler(input, ctx);
    const message = isMessage(output, method.output) ? output : create(method.output, output as never);
    if (req.method === "GET") {
      const { body, etag } = encodedGetAnswer(method, message);
      // Pollers (the dashboard, SDK clients) send back the ETag they hold and get an empty 304 when nothing changed.
      void reply.header("etag", etag);
      if (matchesIfNoneMatch(req.headers["if-none-match"], etag)) return reply.code(304).send();
      return reply.code(200).type("application/json").send(body);
    }
    const body = JSON.stringify(toJson(method.output, message, { alwaysEmitImplicit: true }));
    return reply.code(200).type("application/json").send(body);
  } catch (err) {
    const e = toConnectError(err);
    if (e.code === Code.Internal) logger.error({ err, route: req.routeOptions.url }, "request failed");
    return reply.code(httpStatusOf(e.code)).send({ code: e.code, message: e.rawMessage, details: [] });
  }
}

/** JSON text and ETag of GET answers, kept per answer message: a service answering from a cache hands out the same one. */
const getAnswers = new WeakMap<Message, { body: string; etag: string }>();

function encodedGetAnswer(method: DescMethod, message: Message): { body: string; etag: string } {
  let encoded = getAnswers.get(message);
  if (encoded === undefined) {
    const body = JSON.stringify(toJson(method.output, message, { alwaysEmitImplicit: true }));
    encoded = { body, etag: etagOf(body) };
    getAnswers.set(message, encoded);
  }
  return encoded;
}

/**
 * A REST request's query, body and path parameters as the route's input message (ProtoJSON), refusing what does not
 * decode or names unknown fields; `json` is the merged request as sent, for the NUL-byte check.
 */
export function decodeRestInput(
  route: Pick<RouteSpec, "method" | "bodyRule" | "hasDurations" | "hasQueryFields">,
  query: Record<string, unknown> | undefined,
  body: unknown,
  params: Record<string, string>,
  ignoreUnknownFields: boolean,
): { json: Record<string, unknown>; input: Message } {
  const { method } = route;
  const json: Record<string, unknown> = route.hasQueryFields && query ? queryToJson(method, query) : {};
  if (route.bodyRule === "*") {
    const parsed = parseBody(body);
    if (!ignoreUnknownFields) refuseUnknownFields(method, parsed);
    Object.assign(json, parsed);
  }
  Object.assign(json, params);
  try {
    const normalized = route.hasDurations ? normalizeDurations(json) : json;
    return { json, input: fromJson(method.input, normalized as never, { ignoreUnknownFields: true }) };
  } catch (err) {
    throw new ConnectError(`invalid request: ${(err as Error).message}`, Code.InvalidArgument);
  }
}

/** What a route needs per request, worked out once from its method. */
export function routeSpecOf(
  method: DescMethod,
): Pick<RouteSpec, "method" | "bodyRule" | "hasDurations" | "hasQueryFields"> {
  return {
    method,
    bodyRule: getOption(method, http).body,
    hasDurations: hasDurationField(method.input),
    hasQueryFields: method.input.fields.length > 0,
  };
}

/** Whether a message (or one nested in it) has a Duration field; walked once per route. */
function hasDurationField(message: DescMessage, seen = new Set<string>()): boolean {
  if (seen.has(message.typeName)) return false;
  seen.add(message.typeName);
  for (const field of message.fields) {
    const nested =
      field.fieldKind === "message" ? field.message : field.fieldKind === "map" ? field.message : undefined;
    if (nested?.typeName === "google.protobuf.Duration") return true;
    if (nested && hasDurationField(nested, seen)) return true;
  }
  return false;
}

/** A typo must not silently drop a setting (`roomReplicas` would create the default replica count). */
function refuseUnknownFields(method: DescMethod, body: Record<string, unknown>): void {
  const unknown = unknownJsonFields(method.input, body);
  if (unknown.length > 0) throw new ConnectError(describeUnknownJsonFields(unknown), Code.InvalidArgument);
}

function parseBody(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null || body === "") return {};
  if (typeof body !== "string") return body as Record<string, unknown>;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    throw new ConnectError(`request body is not valid JSON: ${(err as Error).message}`, Code.InvalidArgument);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ConnectError("request body must be a JSON object", Code.InvalidArgument);
  }
  return parsed as Record<string, unknown>;
}

/** Query strings are text; booleans must become JSON booleans for ProtoJSON. Repeated keys keep their last value. */
function queryToJson(method: DescMethod, query: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(query ?? {})) {
    const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    const field = method.input.fields.find((f) => f.jsonName === key || f.name === key);
    if (!field) continue;
    out[key] =
      field.fieldKind === "scalar" && field.scalar === 8 /* BOOL */ ? value === "true" || value === "1" : value;
  }
  return out;
}
