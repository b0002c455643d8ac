/** Share of one core the room burns in each slice: `percent` ms of busy work every 100 ms. */
const SLICE_MS = 100;

/**
 * Makes the room busy on purpose, so CPU autoscaling (metricsTriggers cpu) can be tried: set with the `busy <percent>`
 * line on a game port or GAME_ROOM_BUSY_PERCENT at start. 0 stops it.
 */
export class CpuBurner {
  #percent = 0;
  #timer: NodeJS.Timeout | undefined;

  get percent(): number {
    return this.#percent;
  }

  /** Burns `percent` (0..100) of one core from now on. */
  set(percent: number): void {
    if (!Number.isFinite(percent) || percent < 0 || percent > 100) {
      throw new RangeError(`busy percent must be between 0 and 100, got ${percent}`);
    }
    this.#percent = percent;
    if (percent === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    } else {
      this.#timer ??= setInterval(() => this.#burn(), SLICE_MS);
    }
  }

  stop(): void {
    this.set(0);
  }

  #burn(): void {
    const until = performance.now() + (SLICE_MS * this.#percent) / 100;
    let x = 0;
    while (performance.now() < until) x = (x * 31 + 7) % 1_000_003;
    // Keeps the loop's work observable so it is not optimised away.
    if (x === -1) console.log(x);
  }
}

/** The percent a `busy <n>` line asks for, or undefined when the line is not a busy command. */
export function parseBusyCommand(line: string): number | undefined {
  const m = /^busy\s+(\d+(?:\.\d+)?)$/.exec(line.trim());
  return m ? Number(m[1]) : undefined;
}

/** GAME_ROOM_BUSY_PERCENT: how busy the room is from the start (0 when unset). */
export function busyPercentFromEnv(env: NodeJS.ProcessEnv): number {
  const value = env["GAME_ROOM_BUSY_PERCENT"];
  return value ? Number(value) : 0;
}
