import { createWriteStream, type WriteStream } from "node:fs";
import { StringDecoder } from "node:string_decoder";

/** A line longer than this is written out unfinished so one runaway line cannot grow memory without bound. */
const MAX_PARTIAL_LINE = 64 * 1024;

/** One room's log file: every container's stdout and stderr, appended. */
export class RoomLog {
  private readonly stream: WriteStream;
  private closed = false;

  constructor(path: string, onError: (err: Error) => void) {
    this.stream = createWriteStream(path, { flags: "a" });
    this.stream.on("error", onError);
  }

  /** A writer for one output stream; with a prefix each line is tagged so several containers' lines can be told apart. */
  writer(prefix?: string): LogWriter {
    const write = (data: string | Buffer) => {
      // A grandchild may still hold the pipe after the room is gone; its output has nowhere to go.
      if (!this.closed && !this.stream.destroyed) this.stream.write(data);
    };
    return prefix === undefined ? new RawWriter(write) : new PrefixedWriter(write, prefix);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => {
      if (this.stream.destroyed) return resolve();
      this.stream.once("error", () => resolve());
      this.stream.end(() => resolve());
    });
  }
}

type Write = (data: string | Buffer) => void;

export interface LogWriter {
  write(chunk: Buffer): void;
  /** Writes what is left of an unfinished last line. */
  flush(): void;
}

class RawWriter implements LogWriter {
  constructor(private readonly out: Write) {}
  write(chunk: Buffer): void {
    this.out(chunk);
  }
  flush(): void {}
}

class PrefixedWriter implements LogWriter {
  private readonly decoder = new StringDecoder("utf8");
  private partial = "";

  constructor(
    private readonly out: Write,
    private readonly prefix: string,
  ) {}

  write(chunk: Buffer): void {
    const lines = (this.partial + this.decoder.write(chunk)).split("\n");
    this.partial = lines.pop() ?? "";
    if (this.partial.length > MAX_PARTIAL_LINE) {
      lines.push(this.partial);
      this.partial = "";
    }
    if (lines.length > 0) this.out(lines.map((line) => `[${this.prefix}] ${line}\n`).join(""));
  }

  flush(): void {
    const rest = this.partial + this.decoder.end();
    this.partial = "";
    if (rest !== "") this.out(`[${this.prefix}] ${rest}\n`);
  }
}
