import type { Operation } from "@maestro/proto";
import type { Style } from "./output.js";

const frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/**
 * Shows an operation's progress on stderr: a one-line spinner with the last history line on a terminal, plain
 * lines (one per change) otherwise so logs stay readable.
 */
export class ProgressDisplay {
  private frame = 0;
  private timer: NodeJS.Timeout | undefined;
  private text = "";
  private lastPlain = "";

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly style: Style,
  ) {}

  private get tty(): boolean {
    return this.stream.isTTY === true;
  }

  update(op: Operation): void {
    const last = op.executionHistory.at(-1)?.event;
    this.text = `${op.definitionName} ${op.status}${last ? `: ${last}` : ""}`;
    if (!this.tty) {
      if (this.text !== this.lastPlain) this.stream.write(`${this.text}\n`);
      this.lastPlain = this.text;
      return;
    }
    this.timer ??= setInterval(() => this.draw(), 100);
    this.draw();
  }

  private draw(): void {
    const width = (this.stream.columns || 80) - 3;
    const line = this.text.length > width ? `${this.text.slice(0, width - 1)}…` : this.text;
    this.stream.write(`\r\x1b[2K${this.style.dim(frames[this.frame++ % frames.length] ?? "")} ${line}`);
  }

  /** Stops the spinner and clears its line; the outcome is printed by the caller. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.tty && this.text) this.stream.write("\r\x1b[2K");
  }
}
