export type ForwardOutcome = "success" | "failure" | "timeout" | "shed";

/** Where delivery outcomes go (a prom-client adapter in production). */
export interface ForwardingStats {
  delivered(forwarder: string, event: string, outcome: ForwardOutcome, durationMs: number): void;
}

export const noForwardingStats: ForwardingStats = {
  delivered() {},
};
