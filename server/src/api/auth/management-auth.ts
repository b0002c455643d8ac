import { type DescMethod, getOption } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { http } from "@maestro/proto";
import { MaestroError } from "../../core/errors.js";
import { bearerToken, loopbackHosts, type RpcAuthorizer } from "./rpc-authorizer.js";

export type Role = "read" | "write";

/** Decides who may call what on the management API: read tokens may call GET-mapped RPCs, write tokens anything. */
export interface Authorizer extends RpcAuthorizer {
  /** Throws ConnectError Unauthenticated (no/unknown token) or PermissionDenied (read token, write RPC). */
  check(method: DescMethod, authorization: string | null | undefined): void;
  /** What the caller may do: the dashboard asks so it shows action buttons only to write tokens. */
  role(authorization: string | null | undefined): Role | undefined;
  readonly open: boolean;
}

export function tokenList(value: string): string[] {
  return value
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "");
}

/**
 * Bearer tokens from config. With no token configured the API is open, which is only allowed on a loopback address:
 * an open management API on a network interface would let anyone delete schedulers.
 */
export function createAuthorizer(opts: { readTokens: string; writeTokens: string; host: string }): Authorizer {
  const roles = new Map<string, Role>();
  for (const t of tokenList(opts.readTokens)) roles.set(t, "read");
  for (const t of tokenList(opts.writeTokens)) roles.set(t, "write");
  if (roles.size === 0) {
    if (!loopbackHosts.has(opts.host)) {
      throw new MaestroError(
        "invalid_argument",
        `managementApi.host is ${opts.host} but no managementApi.writeTokens/readTokens are set: an open management ` +
          "API may only listen on loopback (127.0.0.1); set tokens (MAESTRO_MANAGEMENTAPI_WRITETOKENS) to expose it",
      );
    }
    return { open: true, check() {}, role: () => "write" };
  }
  return {
    open: false,
    role: (authorization) => roles.get(bearerToken(authorization)),
    check(method, authorization) {
      const token = bearerToken(authorization);
      const role = token ? roles.get(token) : undefined;
      if (!role) {
        throw new ConnectError(
          token ? "unknown management API token" : 'missing "Authorization: Bearer <token>" header',
          Code.Unauthenticated,
        );
      }
      if (role === "read" && !isRead(method)) {
        throw new ConnectError(`${method.name} changes state and needs a write token`, Code.PermissionDenied);
      }
    },
  };
}

/** An RPC is a read when its REST mapping is a GET; that is also how the REST API exposes it. */
function isRead(method: DescMethod): boolean {
  return getOption(method, http).pattern.case === "get";
}
