/** One dependency /readyz checks: storage, Redis, the runtime. */
export interface ReadinessProbe {
  readonly name: string;
  check(signal: AbortSignal): Promise<void>;
}

export interface ReadinessReport {
  ready: boolean;
  checks: Array<{ name: string; ok: boolean; error?: string }>;
  /** "<probe>: <error>" for each failed check. */
  reasons: string[];
}

const PROBE_TIMEOUT_MS = 2_000;

/** Runs every probe concurrently, each bounded by a timeout, and says which ones failed and why. */
export async function checkReadiness(
  probes: readonly ReadinessProbe[],
  extra: string[] = [],
): Promise<ReadinessReport> {
  const checks = await Promise.all(
    probes.map(async (p) => {
      const signal = AbortSignal.timeout(PROBE_TIMEOUT_MS);
      try {
        await Promise.race([
          p.check(signal),
          new Promise<never>((_, reject) =>
            signal.addEventListener("abort", () => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)), {
              once: true,
            }),
          ),
        ]);
        return { name: p.name, ok: true };
      } catch (err) {
        return { name: p.name, ok: false, error: err instanceof Error ? err.message : String(err) };
      }
    }),
  );
  const reasons = [...extra, ...checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.error}`)];
  return { ready: reasons.length === 0, checks, reasons };
}

/** For an API's own /readyz: throws with the failed checks' reasons joined by "; ". */
export async function readyOrThrow(probes: readonly ReadinessProbe[]): Promise<void> {
  const report = await checkReadiness(probes);
  if (!report.ready) throw new Error(report.reasons.join("; "));
}
