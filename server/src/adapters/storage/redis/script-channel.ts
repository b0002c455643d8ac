import { createHash } from "node:crypto";
import { connect, type Socket } from "node:net";
import type { Redis } from "ioredis";
import { MaestroError } from "../../../core/errors.js";
import type { LuaScript } from "./lua-scripts.js";
import { isClusterClient } from "./redis-client.js";
import { toMaestroError } from "./redis-errors.js";

/**
 * One Lua script over a connection of its own, speaking RESP directly, for the calls made on every request: the ping
 * (apply-ping) and the management reads' scheduler generation (issue 17: ioredis' per-command objects, argument
 * conversion, script wrapper and autopipelining batch were ~15 µs of a ~70 µs ping, and a quarter of a cached read's
 * CPU). Every call made in one event-loop turn leaves in one write; replies are matched first in, first out. Semantics
 * follow the ioredis client it is derived from (`scriptChannelOf`): AUTH and SELECT from its URL, a lost connection fails every call in
 * flight as unavailable and the next call after a backoff reconnects (no offline queue, nothing retried behind the
 * caller's back), a reply slower than the command timeout fails its call as unavailable, and a script the server lost
 * (restart, SCRIPT FLUSH) is sent again with EVAL.
 */
export class ScriptChannel {
  private readonly evalsha: string;
  private readonly evalScript: string;
  private socket: Socket | undefined;
  private closed = false;
  /** Calls whose replies are awaited, oldest first from `head`. */
  private calls: (Call | undefined)[] = [];
  private head = 0;
  /** RESP not yet written: everything issued since the last flush. */
  private out = "";
  private flushQueued = false;
  /** The unparsed end of the last chunk (a reply split across reads). */
  private rest: Buffer | undefined;
  private pos = 0;
  /** The connection answered its handshake: calls may queue behind it. */
  private established = false;
  /** Connections lost or refused since the last established one. */
  private failures = 0;
  private retryAt = 0;
  private lastError = "connection is closed";
  private commandTimer: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: ScriptChannelOptions) {
    const sha = createHash("sha1").update(opts.script).digest("hex");
    this.evalsha = `$7\r\nEVALSHA\r\n$40\r\n${sha}\r\n`;
    this.evalScript = `$4\r\nEVAL\r\n${bulk(opts.script)}`;
  }

  /** Runs the script with these KEYS and ARGV; rejects with MaestroError. */
  run(keys: readonly string[], args: readonly (string | number)[]): Promise<unknown[]> {
    if (this.socket === undefined) {
      if (this.closed) return Promise.reject(unavailable("connection is closed"));
      // Fail fast while Redis is away, as the shared client does (no offline queue).
      if (Date.now() < this.retryAt) return Promise.reject(unavailable(this.lastError));
      this.open();
    }
    // Only the first connection is waited for; a reconnect may take the whole connect timeout (an unreachable host).
    if (!this.established && this.failures > 0) return Promise.reject(unavailable(this.lastError));
    let tail = bulk(String(keys.length));
    for (const key of keys) tail += bulk(key);
    // As ioredis sends them: null and undefined as empty strings.
    for (const arg of args) tail += bulk(typeof arg === "string" ? arg : arg == null ? "" : String(arg));
    const argc = 3 + keys.length + args.length;
    return new Promise<unknown[]>((resolve, reject) => {
      this.send({ resolve, reject, tail, argc, sentAt: Date.now(), retried: false, expired: false }, this.evalsha);
    });
  }

  /** Fails every call in flight and closes the connection for good. */
  close(): void {
    this.closed = true;
    if (this.socket !== undefined) this.drop(this.socket, "connection is closed");
  }

  private open(): void {
    const { host, port, family, username, password, db, name, connectTimeoutMs } = this.opts;
    const socket = connect({ host, port, ...(family ? { family } : {}) });
    this.socket = socket;
    socket.setNoDelay(true);
    this.connectTimer = setTimeout(() => this.drop(socket, "connect ETIMEDOUT"), connectTimeoutMs);
    socket.once("connect", () => {
      clearTimeout(this.connectTimer);
      this.connectTimer = undefined;
    });
    socket.on("data", (chunk: Buffer) => this.onData(socket, chunk));
    socket.on("error", (err: Error) => this.drop(socket, err.message));
    socket.on("close", () => this.drop(socket, "connection is closed"));
    // Written before any call (the socket buffers until connected). A refused AUTH or SELECT closes the connection and
    // fails the calls queued behind it as unavailable; CLIENT SETNAME and SCRIPT LOAD may be refused to a restricted
    // user, as ioredis tolerates for the name (EVAL then sends the script).
    if (password) {
      this.handshake(username ? ["AUTH", username, password] : ["AUTH", password], socket, true);
    }
    if (db) this.handshake(["SELECT", String(db)], socket, true);
    if (name) this.handshake(["CLIENT", "SETNAME", name], socket, false);
    this.handshake(["SCRIPT", "LOAD", this.opts.script], socket, false, () => {
      this.established = true;
      this.failures = 0;
    });
  }

  private handshake(args: string[], socket: Socket, required: boolean, done?: () => void): void {
    this.out += `*${args.length}\r\n${args.map(bulk).join("")}`;
    this.push({
      resolve: () => done?.(),
      reject: (err) => {
        if (!required) {
          done?.();
          return;
        }
        this.drop(socket, `${args[0]} failed: ${err instanceof Error ? err.message : String(err)}`);
      },
      tail: undefined,
      argc: args.length,
      sentAt: Date.now(),
      retried: false,
      expired: false,
    });
  }

  private send(call: Call, command: string): void {
    this.out += `*${call.argc}\r\n${command}${call.tail}`;
    this.push(call);
  }

  private push(call: Call): void {
    this.calls.push(call);
    if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(this.flush);
    }
    if (this.commandTimer === undefined) {
      this.commandTimer = setTimeout(this.expire, this.opts.commandTimeoutMs);
    }
  }

  private readonly flush = () => {
    this.flushQueued = false;
    if (this.socket === undefined || this.out === "") return;
    this.socket.write(this.out);
    this.out = "";
  };

  /** Fails the calls older than the command timeout; their replies, when they come, are dropped. */
  private readonly expire = () => {
    this.commandTimer = undefined;
    const due = Date.now() - this.opts.commandTimeoutMs;
    for (let i = this.head; i < this.calls.length; i++) {
      const call = this.calls[i] as Call;
      if (call.expired) continue;
      if (call.sentAt > due) {
        this.commandTimer = setTimeout(this.expire, call.sentAt - due);
        return;
      }
      if (call.tail === undefined) {
        // A connection that does not answer its own handshake is no connection.
        if (this.socket !== undefined) this.drop(this.socket, "Command timed out");
        return;
      }
      call.expired = true;
      call.reject(unavailable("Command timed out"));
    }
  };

  private onData(socket: Socket, chunk: Buffer): void {
    if (socket !== this.socket) return;
    const buf = this.rest === undefined ? chunk : Buffer.concat([this.rest, chunk]);
    this.rest = undefined;
    let pos = 0;
    while (pos < buf.length) {
      this.pos = pos;
      let reply: Reply | typeof incomplete;
      try {
        reply = this.parse(buf);
      } catch (e) {
        this.drop(socket, e instanceof Error ? e.message : String(e));
        return;
      }
      if (reply === incomplete) {
        this.rest = buf.subarray(pos);
        return;
      }
      pos = this.pos;
      this.settle(socket, reply);
      // A refused handshake closed the connection: what follows belongs to nobody.
      if (socket !== this.socket) return;
    }
  }

  private settle(socket: Socket, reply: Reply): void {
    const call = this.calls[this.head];
    if (call === undefined) {
      this.drop(socket, "redis sent a reply nobody asked for");
      return;
    }
    this.calls[this.head++] = undefined;
    if (this.head === this.calls.length) {
      this.calls.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.calls.length) {
      this.calls = this.calls.slice(this.head);
      this.head = 0;
    }
    if (call.expired) return;
    if (reply instanceof ReplyError) {
      if (call.tail !== undefined && !call.retried && reply.message.startsWith("NOSCRIPT")) {
        // The server lost the script (restart, SCRIPT FLUSH): EVAL sends its text and caches it again.
        call.retried = true;
        this.send(call, this.evalScript);
        return;
      }
      call.reject(call.tail === undefined ? reply : toMaestroError(reply));
      return;
    }
    if (call.tail !== undefined && !Array.isArray(reply)) {
      call.reject(
        new MaestroError(
          "internal",
          `the ${this.opts.name ?? "channel's"} script answered ${String(reply)}, not an array`,
        ),
      );
      return;
    }
    call.resolve(reply as unknown[]);
  }

  /** The connection is gone: every call in flight fails as unavailable; the next call reconnects after a backoff. */
  private drop(socket: Socket, reason: string): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    this.established = false;
    socket.destroy();
    clearTimeout(this.connectTimer);
    clearTimeout(this.commandTimer);
    this.connectTimer = undefined;
    this.commandTimer = undefined;
    this.lastError = reason;
    this.failures++;
    this.retryAt = Date.now() + Math.min(100 * 2 ** Math.min(this.failures - 1, 5), 2_000);
    const calls = this.calls;
    const head = this.head;
    this.calls = [];
    this.head = 0;
    this.out = "";
    this.rest = undefined;
    const error = unavailable(reason);
    for (let i = head; i < calls.length; i++) {
      const call = calls[i] as Call;
      // A handshake call's reject would drop the connection again; its socket is already gone.
      if (!call.expired && call.tail !== undefined) call.reject(error);
    }
  }

  /** One RESP2 value from `this.pos`, advancing it; `incomplete` when the buffer ends first. */
  private parse(buf: Buffer): Reply | typeof incomplete {
    const start = this.pos;
    if (start >= buf.length) return incomplete;
    const lineEnd = buf.indexOf(13, start + 1);
    if (lineEnd < 0 || lineEnd + 1 >= buf.length) return incomplete;
    const next = lineEnd + 2;
    switch (buf[start]) {
      case 43: // +
        this.pos = next;
        return buf.toString("utf8", start + 1, lineEnd);
      case 45: // -
        this.pos = next;
        return new ReplyError(buf.toString("utf8", start + 1, lineEnd));
      case 58: // :
        this.pos = next;
        return readInteger(buf, start + 1, lineEnd);
      case 36: {
        // $
        const length = readInteger(buf, start + 1, lineEnd);
        if (length < 0) {
          this.pos = next;
          return null;
        }
        if (next + length + 2 > buf.length) return incomplete;
        this.pos = next + length + 2;
        return buf.toString("utf8", next, next + length);
      }
      case 42: {
        // *
        const count = readInteger(buf, start + 1, lineEnd);
        this.pos = next;
        if (count < 0) return null;
        const items: Reply[] = new Array(count);
        for (let i = 0; i < count; i++) {
          const item = this.parse(buf);
          if (item === incomplete) return incomplete;
          items[i] = item;
        }
        return items;
      }
      default:
        throw new Error(`redis protocol error: unexpected byte ${buf[start]}`);
    }
  }
}

export interface ScriptChannelOptions {
  host: string;
  port: number;
  family?: number | undefined;
  username?: string | undefined;
  password?: string | undefined;
  db?: number | undefined;
  /** CLIENT SETNAME of the connection. */
  name?: string | undefined;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  /** The Lua text every call runs (EVALSHA of its SHA-1; EVAL when the server lost it). */
  script: string;
}

interface Call {
  resolve: (reply: unknown[]) => void;
  reject: (err: unknown) => void;
  /** RESP of the arguments after the script (key count, KEYS, ARGV); undefined for the connection's own commands. */
  tail: string | undefined;
  argc: number;
  sentAt: number;
  /** Sent again with EVAL after a NOSCRIPT reply (once). */
  retried: boolean;
  /** Failed by the command timeout: its reply, when it comes, is dropped. */
  expired: boolean;
}

/** An error reply; named as ioredis names them, so toMaestroError maps LOADING, BUSY, OOM… alike. */
class ReplyError extends Error {
  override name = "ReplyError";
}

type Reply = string | number | null | ReplyError | Reply[];

const incomplete = Symbol("incomplete");

function bulk(value: string): string {
  return `$${Buffer.byteLength(value)}\r\n${value}\r\n`;
}

function readInteger(buf: Buffer, start: number, end: number): number {
  let negative = false;
  let i = start;
  if (buf[i] === 45) {
    negative = true;
    i++;
  }
  let value = 0;
  for (; i < end; i++) value = value * 10 + ((buf[i] as number) - 48);
  return negative ? -value : value;
}

function unavailable(reason: string): MaestroError {
  return new MaestroError("unavailable", `redis unavailable: ${reason}`);
}

const channels = new WeakMap<Redis, Map<string, LuaScript>>();

/**
 * The channel named `name` for this client's Redis, running `script`, or undefined where the ioredis path stays: a
 * Redis Cluster (slots, redirections and failover are ioredis' job), TLS (`rediss://`), Sentinel, a Unix socket or a key
 * prefix. It lives as long as the client: when the client ends (disconnect, quit), the channel closes. One per client
 * and name; its connection is named `<client name>-<name>`.
 */
export function scriptChannelOf(client: Redis, name: string, script: string): LuaScript | undefined {
  let named = channels.get(client);
  const existing = named?.get(name);
  if (existing !== undefined) return existing;
  if (isClusterClient(client) || client.status === "end") return undefined;
  const o = client.options;
  if (o.tls || o.sentinels || o.path || o.keyPrefix || o.host === undefined || o.port === undefined) return undefined;
  const channel = new ScriptChannel({
    host: o.host,
    port: o.port,
    family: o.family,
    username: o.username ?? undefined,
    password: o.password ?? undefined,
    db: o.db,
    name: o.connectionName === undefined ? name : `${o.connectionName}-${name}`,
    connectTimeoutMs: o.connectTimeout ?? 10_000,
    commandTimeoutMs: o.commandTimeout ?? 10_000,
    script,
  });
  client.once("end", () => channel.close());
  const run: LuaScript = (keys, args) => channel.run(keys, args);
  if (named === undefined) {
    named = new Map();
    channels.set(client, named);
  }
  named.set(name, run);
  return run;
}
