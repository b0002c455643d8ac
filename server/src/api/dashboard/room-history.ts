import type { RoomStatusName } from "../../core/entities/game-room.js";
import type { RoomUsage } from "../../core/entities/room-usage.js";
import type { Clock } from "../../core/ports/clock.js";
import type { Logger } from "../../core/ports/logger.js";
import type { RoomStorage } from "../../core/ports/room-storage.js";
import type { SchedulerStorage } from "../../core/ports/scheduler-storage.js";

export interface RoomHistorySample {
  /** ISO time of the sample. */
  at: string;
  /** Rooms per status; statuses with no room are left out. */
  counts: Partial<Record<RoomStatusName, number>>;
  /** Sums over the rooms the runtime measured; absent when it measured none (or cannot measure). */
  usage?: UsageTotals | undefined;
}

export interface UsageTotals {
  rooms: number;
  cpuMillicores: number;
  memoryBytes: number;
  cpuRequestMillicores: number;
  memoryRequestBytes: number;
}

export interface RoomHistoryOptions {
  rooms: Pick<RoomStorage, "countByStatus" | "countByStatusOf">;
  schedulers: Pick<SchedulerStorage, "listSchedulerNames">;
  clock: Clock;
  logger: Logger;
  /** The rooms' CPU and memory now; without it samples carry room counts only. */
  usage?: ((schedulerName: string, signal?: AbortSignal) => Promise<RoomUsage[]>) | undefined;
  /** @defaultValue 10 000 */
  intervalMs?: number;
  /** @defaultValue one hour */
  windowMs?: number;
}

/** Schedulers sampled at once. */
const SAMPLE_CONCURRENCY = 64;

/**
 * Rooms by status of every scheduler, sampled in this process for the dashboard's chart. Kept in memory on purpose:
 * the history is a view aid for the last hour, not data worth a storage schema; a restart starts it afresh.
 */
export class RoomHistorySampler {
  readonly intervalMs: number;
  private readonly windowMs: number;
  private readonly samples = new Map<string, RoomHistorySample[]>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly opts: RoomHistoryOptions) {
    this.intervalMs = opts.intervalMs ?? 10_000;
    this.windowMs = opts.windowMs ?? 3_600_000;
  }

  start(): void {
    if (this.timer) return;
    const tick = () => {
      this.running ??= this.sample()
        .catch((err) => this.opts.logger.warn({ err }, "room history sample failed"))
        .finally(() => {
          this.running = undefined;
        });
    };
    tick();
    this.timer = setInterval(tick, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Takes one sample of every scheduler now, and forgets schedulers that no longer exist. */
  async sample(signal?: AbortSignal): Promise<void> {
    const names = await this.opts.schedulers.listSchedulerNames({ signal });
    for (const name of this.samples.keys()) if (!names.includes(name)) this.samples.delete(name);
    // A batch of schedulers at a time, their rooms counted in one round trip (a sample every 10 s over every
    // scheduler is most of what an idle management API does), while thousands of schedulers do not put thousands
    // of usage calls in flight at once.
    for (let start = 0; start < names.length; start += SAMPLE_CONCURRENCY) {
      const batch = names.slice(start, start + SAMPLE_CONCURRENCY);
      const counts = await this.opts.rooms.countByStatusOf(batch, { signal });
      const taken = await Promise.all(batch.map((name, i) => this.current(name, signal, counts[i])));
      for (const [i, sample] of taken.entries()) {
        const name = batch[i]!;
        const list = this.samples.get(name) ?? [];
        list.push(sample);
        const oldest = Date.parse(sample.at) - this.windowMs;
        while (list.length > 0 && Date.parse(list[0]!.at) < oldest) list.shift();
        this.samples.set(name, list);
      }
    }
  }

  /** The stored samples of a scheduler, oldest first, followed by one taken now so the chart ends at the present. */
  async history(name: string, signal?: AbortSignal): Promise<RoomHistorySample[]> {
    return [...(this.samples.get(name) ?? []), await this.current(name, signal)];
  }

  private async current(
    name: string,
    signal?: AbortSignal,
    counted?: Record<RoomStatusName, number>,
  ): Promise<RoomHistorySample> {
    const [all, usage] = await Promise.all([
      counted ?? this.opts.rooms.countByStatus(name, { signal }),
      // A runtime that cannot measure now leaves a gap in the usage line, not in the room counts.
      this.opts.usage?.(name, signal).catch(() => undefined),
    ]);
    const counts: Partial<Record<RoomStatusName, number>> = {};
    for (const [status, n] of Object.entries(all) as [RoomStatusName, number][]) if (n > 0) counts[status] = n;
    const sample: RoomHistorySample = { at: this.opts.clock.now().toISOString(), counts };
    if (usage && usage.length > 0) sample.usage = totals(usage);
    return sample;
  }
}

function totals(usage: readonly RoomUsage[]): UsageTotals {
  const t: UsageTotals = { rooms: 0, cpuMillicores: 0, memoryBytes: 0, cpuRequestMillicores: 0, memoryRequestBytes: 0 };
  for (const u of usage) {
    t.rooms++;
    t.cpuMillicores += u.cpuMillicores;
    t.memoryBytes += u.memoryBytes;
    t.cpuRequestMillicores += u.cpuRequestMillicores;
    t.memoryRequestBytes += u.memoryRequestBytes;
  }
  return t;
}
