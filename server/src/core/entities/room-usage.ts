/**
 * Resources one room uses now, and what its containers request. CPU is in millicores (1000 = one core busy all the
 * time), memory in bytes. A request of 0 means the spec set none, so the room cannot weigh in a cpu/memory ratio.
 */
export interface RoomUsage {
  roomId: string;
  cpuMillicores: number;
  memoryBytes: number;
  cpuRequestMillicores: number;
  memoryRequestBytes: number;
  /** When the runtime measured it. */
  sampledAt: Date;
}

/** Σ usage / Σ requests over the rooms that have both, as Maestro v9 did (an aggregate, not a mean of ratios). */
export function resourceUtilization(usages: readonly RoomUsage[], kind: "cpu" | "memory"): number | undefined {
  let used = 0;
  let requested = 0;
  for (const u of usages) {
    const request = kind === "cpu" ? u.cpuRequestMillicores : u.memoryRequestBytes;
    if (!(request > 0)) continue;
    used += kind === "cpu" ? u.cpuMillicores : u.memoryBytes;
    requested += request;
  }
  return requested > 0 ? used / requested : undefined;
}
