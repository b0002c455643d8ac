import { createMaestroClient, isMaestroClientError, type MaestroClient } from "@maestro/sdk-management/web";

const tokenKey = "maestro.managementToken";

export type Role = "read" | "write";

export interface Session {
  client: MaestroClient;
  token: string;
  role: Role;
  /** False when the server has no tokens configured (loopback only): anyone may act. */
  tokensRequired: boolean;
}

export interface RoomHistory {
  intervalSeconds: number;
  samples: { at: string; counts: Partial<Record<string, number>>; usage?: UsageTotals }[];
}

/** The measured rooms' CPU (millicores) and memory (bytes), and what they request, summed. */
export interface UsageTotals {
  rooms: number;
  cpuMillicores: number;
  memoryBytes: number;
  cpuRequestMillicores: number;
  memoryRequestBytes: number;
}

/** An error to show as is: what went wrong in words, for operators. */
export class DashboardError extends Error {
  constructor(
    message: string,
    readonly needsToken = false,
  ) {
    super(message);
  }
}

export const storedToken = (): string => localStorage.getItem(tokenKey) ?? "";
export function storeToken(token: string): void {
  if (token) localStorage.setItem(tokenKey, token);
  else localStorage.removeItem(tokenKey);
}

/** Asks the server which role the token has; throws a DashboardError with needsToken when it has none. */
export async function openSession(token: string): Promise<Session> {
  const res = await getJson<{ role: Role; tokensRequired: boolean }>("/ui/api/whoami", token);
  return {
    client: createMaestroClient({ baseUrl: location.origin, token: token || undefined, timeoutMs: 15_000 }),
    token,
    role: res.role,
    tokensRequired: res.tokensRequired,
  };
}

export const roomHistory = (s: Session, scheduler: string, signal?: AbortSignal): Promise<RoomHistory> =>
  getJson(`/ui/api/schedulers/${encodeURIComponent(scheduler)}/room-history`, s.token, signal);

async function getJson<T>(path: string, token: string, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal });
  } catch (err) {
    throw new DashboardError(`The management API does not answer (${(err as Error).message}).`);
  }
  const body = (await res.json().catch(() => undefined)) as { message?: string } | undefined;
  if (res.status === 401) throw new DashboardError(body?.message ?? "A management API token is required.", true);
  if (!res.ok) throw new DashboardError(`${path} answered ${res.status}: ${body?.message ?? res.statusText}`);
  return body as T;
}

const wordsByCode: Record<string, string> = {
  invalid_argument: "The request was refused as invalid",
  not_found: "Not found",
  already_exists: "Already exists",
  conflict: "Refused because of the current state",
  failed_precondition: "Not possible now",
  resource_exhausted: "Out of resources",
  unauthenticated: "The token was refused",
  permission_denied: "This token may not do that (it needs a write token)",
  unavailable: "The management API is unavailable",
  canceled: "The request was canceled or timed out",
  unimplemented: "Not supported by this server",
  internal: "The server failed",
};

/** Any error as a sentence an operator can act on. */
export function describeError(err: unknown): string {
  if (err instanceof DashboardError) return err.message;
  if (isMaestroClientError(err)) {
    const words = wordsByCode[err.code] ?? err.code;
    return err.rawMessage ? `${words}: ${err.rawMessage}` : words;
  }
  return err instanceof Error ? err.message : String(err);
}

export const needsToken = (err: unknown): boolean =>
  (err instanceof DashboardError && err.needsToken) || (isMaestroClientError(err) && err.code === "unauthenticated");
