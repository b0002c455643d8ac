import type { DescMethod } from "@bufbuild/protobuf";

/**
 * The one authorization step every API runs before a handler, on every protocol (REST routes and the Connect
 * interceptor call it alike). Throws ConnectError Unauthenticated or PermissionDenied; returning means allowed.
 * `request` is the decoded request message, for rules that depend on what is asked (a room's own token).
 */
export interface RpcAuthorizer {
  check(method: DescMethod, authorization: string | null | undefined, request?: unknown): void;
}

export function bearerToken(authorization: string | null | undefined): string {
  return authorization?.startsWith("Bearer ") ? authorization.slice(7).trim() : "";
}

export const loopbackHosts: ReadonlySet<string> = new Set(["127.0.0.1", "::1", "localhost"]);
