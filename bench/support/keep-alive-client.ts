// One keep-alive HTTP/1.1 connection of the load generator, one request at a time (no pipelining). It writes the
// request bytes as given and parses just what the bench reads (status, Content-Length or chunked body), so the load
// generator, which shares the machine's two cores with the servers it measures, spends a third of the CPU per request
// that undici's Pool did (bench/RESULTS.md): that CPU is taken from whichever server is being measured.
import { connect, type Socket } from "node:net";

export interface Answer {
  status: number;
  body: string;
}

export class KeepAliveConnection {
  private socket: Socket | undefined;
  private buffered: Buffer = Buffer.alloc(0);
  private waiting: { resolve(a: Answer): void; reject(e: Error): void } | undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  /** Sends one request (its complete bytes) and resolves with the answer once its body is complete. */
  request(bytes: Buffer): Promise<Answer> {
    if (this.waiting) return Promise.reject(new Error("a request is already in flight on this connection"));
    const socket = this.socket ?? this.open();
    return new Promise<Answer>((resolve, reject) => {
      this.waiting = { resolve, reject };
      socket.write(bytes);
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private open(): Socket {
    const socket = connect({ host: this.host, port: this.port, noDelay: true });
    socket.on("data", (chunk: Buffer) => {
      if (this.socket === socket) this.onData(chunk);
    });
    const fail = (err: Error) => {
      // A connection closed on purpose (after `connection: close`) may report after its successor opened.
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.buffered = Buffer.alloc(0);
      const w = this.waiting;
      this.waiting = undefined;
      w?.reject(err);
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("connection closed by the server")));
    this.socket = socket;
    return socket;
  }

  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const answer = parseAnswer(this.buffered);
    if (answer === undefined) return;
    this.buffered = this.buffered.subarray(answer.consumed);
    const w = this.waiting;
    this.waiting = undefined;
    if (w === undefined) {
      this.close();
      return;
    }
    w.resolve({ status: answer.status, body: answer.body });
    if (answer.close) this.close();
  }
}

const HEAD_END = Buffer.from("\r\n\r\n");

/** One complete answer at the start of `buf`, or undefined while it is still arriving. */
function parseAnswer(buf: Buffer): (Answer & { consumed: number; close: boolean }) | undefined {
  const headEnd = buf.indexOf(HEAD_END);
  if (headEnd < 0) return undefined;
  const head = buf.toString("latin1", 0, headEnd);
  const status = Number(head.slice(9, 12));
  if (!Number.isInteger(status) || !head.startsWith("HTTP/1.")) throw new Error(`not an HTTP/1 answer: ${head}`);
  let length: number | undefined;
  let chunked = false;
  let close = false;
  for (const line of head.split("\r\n").slice(1)) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line
      .slice(colon + 1)
      .trim()
      .toLowerCase();
    if (name === "content-length") length = Number(value);
    else if (name === "transfer-encoding") chunked = value.includes("chunked");
    else if (name === "connection") close = value === "close";
  }
  const bodyStart = headEnd + HEAD_END.length;
  // 1xx, 204 and 304 answers have no body whatever their headers say.
  if (status < 200 || status === 204 || status === 304) return { status, body: "", consumed: bodyStart, close };
  if (chunked) {
    const parts: Buffer[] = [];
    let at = bodyStart;
    for (;;) {
      const lineEnd = buf.indexOf("\r\n", at);
      if (lineEnd < 0) return undefined;
      const size = Number.parseInt(buf.toString("latin1", at, lineEnd), 16);
      if (Number.isNaN(size)) throw new Error("bad chunk size in a chunked answer");
      if (size === 0) {
        // No trailers are expected: the last chunk is followed by an empty line.
        const end = buf.indexOf(HEAD_END.subarray(0, 2), lineEnd + 2);
        if (end < 0) return undefined;
        return { status, body: Buffer.concat(parts).toString("utf8"), consumed: end + 2, close };
      }
      if (buf.length < lineEnd + 2 + size + 2) return undefined;
      parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
  }
  if (length === undefined) throw new Error("an answer without Content-Length or chunked encoding");
  if (buf.length < bodyStart + length) return undefined;
  return { status, body: buf.toString("utf8", bodyStart, bodyStart + length), consumed: bodyStart + length, close };
}

/** The complete bytes of one request. */
export function requestBytes(
  host: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | undefined,
): Buffer {
  const payload = body === undefined ? undefined : Buffer.from(body);
  let head = `${method} ${path} HTTP/1.1\r\nhost: ${host}\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  if (payload !== undefined) head += `content-length: ${payload.length}\r\n`;
  head += "\r\n";
  return payload === undefined ? Buffer.from(head) : Buffer.concat([Buffer.from(head), payload]);
}
