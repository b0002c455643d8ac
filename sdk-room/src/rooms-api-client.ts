import { MaestroRoomError } from "./errors.js";
import type { Metadata, RoomStatus } from "./options.js";

const USER_AGENT = "maestro-sdk-room/0.1.0";

export interface RoomsApiClientConfig {
  roomsApiUrl: string;
  schedulerName: string;
  roomId: string;
  token: string | undefined;
  requestTimeoutMs: number;
}

export interface PingBody {
  status: RoomStatus;
  runningMatches: number;
  metadata: Metadata;
}

/** The three rooms API calls a room makes, over global fetch. */
export class RoomsApiClient {
  readonly #roomUrl: string;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;

  constructor(config: RoomsApiClientConfig) {
    const base = config.roomsApiUrl.replace(/\/+$/, "");
    this.#roomUrl = `${base}/scheduler/${encodeURIComponent(config.schedulerName)}/rooms/${encodeURIComponent(config.roomId)}`;
    this.#headers = { "content-type": "application/json", accept: "application/json", "user-agent": USER_AGENT };
    if (config.token !== undefined) this.#headers["authorization"] = `Bearer ${config.token}`;
    this.#timeoutMs = config.requestTimeoutMs;
  }

  async ping(body: PingBody, signal?: AbortSignal): Promise<void> {
    await this.#send("PUT", "ping", { ...body, timestamp: unixSeconds() }, signal);
  }

  async roomEvent(event: string, metadata: Metadata, signal?: AbortSignal): Promise<void> {
    await this.#send("POST", "roomevent", { event, timestamp: unixSeconds(), metadata }, signal);
  }

  async playerEvent(event: "playerJoin" | "playerLeft", metadata: Metadata, signal?: AbortSignal): Promise<void> {
    await this.#send("POST", "playerevent", { event, timestamp: unixSeconds(), metadata }, signal);
  }

  async #send(method: string, path: string, body: unknown, signal: AbortSignal | undefined): Promise<void> {
    const what = `${method} ${path}`;
    if (signal?.aborted) throw aborted(what, signal);
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${this.#roomUrl}/${path}`, {
        method,
        headers: this.#headers,
        body: JSON.stringify(body),
        signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
      });
      text = await response.text();
    } catch (e) {
      if (signal?.aborted) throw aborted(what, signal);
      if (timeout.aborted) {
        throw new MaestroRoomError("request_failed", `${what}: no answer within ${this.#timeoutMs} ms`, { cause: e });
      }
      throw new MaestroRoomError("request_failed", `${what}: ${describe(e)}`, { cause: e });
    }
    const parsed = parseJson(text);
    if (!response.ok) {
      const apiMessage = typeof parsed?.["message"] === "string" ? parsed["message"] : text.slice(0, 200);
      const apiCode = typeof parsed?.["code"] === "number" ? parsed["code"] : undefined;
      // 4xx is the server refusing this request; 5xx (and anything odd) is worth retrying.
      const code = response.status >= 400 && response.status < 500 ? "rejected" : "request_failed";
      throw new MaestroRoomError(code, `${what}: HTTP ${response.status}: ${apiMessage || response.statusText}`, {
        status: response.status,
        apiCode,
      });
    }
    if (parsed?.["success"] === false) {
      const apiMessage = typeof parsed["message"] === "string" && parsed["message"] ? `: ${parsed["message"]}` : "";
      throw new MaestroRoomError("rejected", `${what}: rooms API answered success=false${apiMessage}`, {
        status: response.status,
      });
    }
  }
}

function unixSeconds(): string {
  return String(Math.floor(Date.now() / 1000));
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function aborted(what: string, signal: AbortSignal): MaestroRoomError {
  return new MaestroRoomError("aborted", `${what}: aborted`, { cause: signal.reason });
}

function describe(e: unknown): string {
  // undici hides the useful part (ECONNREFUSED, ENOTFOUND) in `cause`.
  if (e instanceof Error && e.cause instanceof Error) return `${e.message} (${e.cause.message})`;
  return e instanceof Error ? e.message : String(e);
}
