import { setFlagsFromString } from "node:v8";

/**
 * Applies `memory.heapGrowingPercent` to this process. Only the process's owner calls it (`maestro start`): a V8 flag
 * is process-wide, so an embedder's heap is left alone. V8 reads this flag each time it sets the next full-collection
 * limit, so setting it after start-up takes effect (unlike the young-generation size, which is fixed when the heap is
 * made and is therefore a command-line flag: `--max-semi-space-size`, see deploy/Dockerfile).
 */
export function applyHeapTuning(
  memory: { heapGrowingPercent: number },
  setFlags: (flags: string) => void = setFlagsFromString,
): string | undefined {
  if (memory.heapGrowingPercent === 0) return undefined;
  const flag = `--heap-growing-percent=${memory.heapGrowingPercent}`;
  setFlags(flag);
  return flag;
}
