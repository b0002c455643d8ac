import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { RoomsService } from "@maestro/proto";
import { MaestroError } from "../../core/errors.js";
import type { RoomTokens } from "../../core/ports/room-token.js";
import { tokenList } from "./management-auth.js";
import { bearerToken, loopbackHosts, type RpcAuthorizer } from "./rpc-authorizer.js";

/**
 * Who may call a rooms-API RPC: `room` = the room named in the request, with its own token (HMAC of scheduler + room);
 * `matchmaker` = a matchmaker token; `room-or-matchmaker` = either.
 */
export type RoomsRule = "room" | "matchmaker" | "room-or-matchmaker";

/** Every rooms-API RPC and who may call it. An RPC missing here stops the server at start (fail closed). */
export const roomsRules: Readonly<Record<string, RoomsRule>> = {
  UpdateRoomWithPing: "room",
  ForwardRoomEvent: "room",
  ForwardPlayerEvent: "room",
  UpdateRoomStatus: "room",
  // A room asks for its own address; a matchmaker for the address of the room it was handed.
  GetRoomAddress: "room-or-matchmaker",
  AllocateRoom: "matchmaker",
};

export interface RoomsAuthOptions {
  /** Room token checker; undefined = Maestro-compatible mode (`--insecure-rooms-api`): room RPCs are open. */
  tokens: RoomTokens | undefined;
  /** Comma-separated matchmaker tokens (roomsApi.matchmakerTokens). */
  matchmakerTokens: string;
  /** The rooms API bind address: with no matchmaker token, matchmaker RPCs are open on loopback only. */
  host: string;
  service?: DescService;
  rules?: Readonly<Record<string, RoomsRule>>;
}

interface RoomRequest {
  schedulerName?: unknown;
  roomName?: unknown;
}

/**
 * The rooms API's authorization layer. Matchmaker RPCs need a matchmaker token when any is configured; with none they
 * are open when the API listens on loopback (a matchmaker on the same machine, the embedded default) and refused
 * otherwise, so an exposed rooms API never hands rooms to anyone. Room RPCs need the room's own token unless room
 * tokens are off (Maestro-compatible mode), which opens matchmaker RPCs too when no matchmaker token is configured.
 */
export function createRoomsAuthorizer(opts: RoomsAuthOptions): RpcAuthorizer & { matchmakersOpen: boolean } {
  const service = opts.service ?? RoomsService;
  const rules = opts.rules ?? roomsRules;
  const ruleOf = new Map<string, RoomsRule>();
  for (const method of service.methods) {
    const rule = rules[method.name];
    if (rule === undefined) {
      throw new MaestroError(
        "internal",
        `rooms API RPC ${service.typeName}.${method.name} declares no authorization rule (api/auth/rooms-auth.ts)`,
      );
    }
    ruleOf.set(method.name, rule);
  }
  const matchmakers = new Set(tokenList(opts.matchmakerTokens));
  const matchmakersOpen = matchmakers.size === 0 && (opts.tokens === undefined || loopbackHosts.has(opts.host));
  const isMatchmaker = (token: string) => matchmakersOpen || (token !== "" && matchmakers.has(token));
  const isRoom = (token: string, request: unknown) => {
    if (opts.tokens === undefined) return true;
    const { schedulerName, roomName } = (request ?? {}) as RoomRequest;
    if (typeof schedulerName !== "string" || typeof roomName !== "string" || token === "") return false;
    return opts.tokens.verify(schedulerName, roomName, token);
  };
  return {
    matchmakersOpen,
    check(method, authorization, request) {
      const rule = ruleOf.get(method.name);
      // Methods are looked up by the service they came from; anything else is not ours to allow.
      if (rule === undefined) throw new ConnectError(`${method.name} is not a rooms API RPC`, Code.PermissionDenied);
      const token = bearerToken(authorization);
      if (rule === "room" && isRoom(token, request)) return;
      if (rule === "matchmaker" && isMatchmaker(token)) return;
      if (rule === "room-or-matchmaker" && (isRoom(token, request) || isMatchmaker(token))) return;
      throw refusal(rule, method.name, token, matchmakers.size > 0, request);
    },
  };
}

function refusal(
  rule: RoomsRule,
  rpc: string,
  token: string,
  matchmakerTokensSet: boolean,
  request: unknown,
): ConnectError {
  const { roomName } = (request ?? {}) as RoomRequest;
  if (rule === "room") {
    return new ConnectError(
      `room ${String(roomName)} must send "Authorization: Bearer $MAESTRO_ROOM_TOKEN" (or start the server with --insecure-rooms-api)`,
      Code.Unauthenticated,
    );
  }
  if (rule === "room-or-matchmaker") {
    return new ConnectError(
      `${rpc} of room ${String(roomName)} needs the room's own token or a matchmaker token (roomsApi.matchmakerTokens)`,
      Code.Unauthenticated,
    );
  }
  if (!matchmakerTokensSet) {
    return new ConnectError(
      `${rpc} needs a matchmaker token, and none is configured: set roomsApi.matchmakerTokens ` +
        "(MAESTRO_ROOMSAPI_MATCHMAKERTOKENS) and send it as a bearer token",
      Code.PermissionDenied,
    );
  }
  return new ConnectError(
    token
      ? `${rpc} needs a matchmaker token (roomsApi.matchmakerTokens); this token is not one`
      : `${rpc} needs "Authorization: Bearer <matchmaker token>" (roomsApi.matchmakerTokens)`,
    token ? Code.PermissionDenied : Code.Unauthenticated,
  );
}
