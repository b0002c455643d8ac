import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import { LineSplitter } from "./line-splitter.js";

export interface TcpEchoServerOptions {
  name: string;
  port: number;
  host: string;
  /** Called after a client connects or leaves, with this server's client count. */
  onClientsChanged: (change: { clientId: string; joined: boolean }) => void;
  /** Reply to a `stats` line. */
  stats: () => Record<string, unknown>;
  /** Handles a line that is a command rather than something to echo; returns the reply, or undefined to echo. */
  command?: (line: string) => string | undefined;
}

/** Line-based TCP echo: each line comes back as sent, except `stats` (answered with JSON) and commands. */
export class TcpEchoServer {
  readonly #options: TcpEchoServerOptions;
  readonly #server: Server;
  readonly #clients = new Map<Socket, string>();
  #emptied: (() => void) | undefined;

  constructor(options: TcpEchoServerOptions) {
    this.#options = options;
    this.#server = createServer((socket) => this.#accept(socket));
  }

  get clients(): number {
    return this.#clients.size;
  }

  async listen(): Promise<number> {
    this.#server.listen(this.#options.port, this.#options.host);
    await once(this.#server, "listening");
    const address = this.#server.address();
    return typeof address === "object" && address !== null ? address.port : this.#options.port;
  }

  /** Stops accepting new clients; connected ones stay (net.Server's close callback would wait for them). */
  stopAccepting(): void {
    this.#server.close();
  }

  broadcast(message: string): void {
    for (const socket of this.#clients.keys()) socket.write(message);
  }

  /** Resolves when every client has left, or when `signal` fires (drain deadline). */
  async drained(signal: AbortSignal): Promise<void> {
    if (this.#clients.size === 0 || signal.aborted) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        signal.removeEventListener("abort", done);
        this.#emptied = undefined;
        resolve();
      };
      this.#emptied = done;
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /** Drops whoever is still connected. */
  disconnectAll(): void {
    for (const socket of this.#clients.keys()) socket.destroy();
  }

  #accept(socket: Socket): void {
    const clientId = `${this.#options.name}:${socket.remoteAddress}:${socket.remotePort}`;
    this.#clients.set(socket, clientId);
    this.#options.onClientsChanged({ clientId, joined: true });
    const lines = new LineSplitter();
    socket.on("data", (chunk: Buffer) => {
      for (const line of lines.push(chunk)) {
        const text = line.toString("utf8").trim();
        const reply = text === "stats" ? JSON.stringify(this.#options.stats()) : this.#options.command?.(text);
        if (reply !== undefined) socket.write(`${reply}\n`);
        else socket.write(Buffer.concat([line, Buffer.from("\n")]));
      }
    });
    // Errors (ECONNRESET…) end in "close" too; handling them here keeps one bad client from crashing the server.
    socket.on("error", () => {});
    socket.on("close", () => {
      this.#clients.delete(socket);
      this.#options.onClientsChanged({ clientId, joined: false });
      if (this.#clients.size === 0) this.#emptied?.();
    });
  }
}
