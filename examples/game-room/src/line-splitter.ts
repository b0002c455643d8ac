const NEWLINE = 0x0a;
// A client that never sends a newline must not make us buffer without bound.
const MAX_PENDING_BYTES = 64 * 1024;

/** Splits a byte stream into lines (without the newline). Oversized partial lines are flushed as they are. */
export class LineSplitter {
  #pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    const lines: Buffer[] = [];
    let data = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    for (let at = data.indexOf(NEWLINE); at !== -1; at = data.indexOf(NEWLINE)) {
      lines.push(data.subarray(0, at));
      data = data.subarray(at + 1);
    }
    if (data.length > MAX_PENDING_BYTES) {
      lines.push(data);
      data = Buffer.alloc(0);
    }
    this.#pending = Buffer.from(data);
    return lines;
  }
}
