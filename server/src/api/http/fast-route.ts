import type { IncomingMessage, ServerResponse } from "node:http";

/** A JSON answer: its status and body (content type `application/json; charset=utf-8`). */
export interface DirectAnswer {
  status: number;
  body: string;
}

/**
 * A route the direct front serves straight off the socket (api/http/direct-connection.ts), for requests whose head
 * is in the strict subset of direct-head.ts.
 */
export interface DirectRoute {
  /** The method, upper case ASCII. */
  method: Buffer;
  /** Larger declared bodies go to Node, and so to the generic route's limits. */
  bodyMax: number;
  /** The route's parameters, or null when the target is not this route's. */
  match(target: string): RegExpExecArray | null;
  /** Answers the request (never rejects: failures are answers); `started` is performance.now() at its head. */
  serve(
    params: RegExpExecArray,
    authorization: string | undefined,
    body: string,
    started: number,
  ): Promise<DirectAnswer>;
}

/** A route served ahead of Fastify. */
export interface FastRoute {
  /** Serves a request Node parsed itself and returns true, or returns false without touching it (Fastify serves it). */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** The same route served without Node's HTTP parser, for connections that send only its requests. */
  direct?: DirectRoute | undefined;
}
