/** A unit `maestro start` can run: the APIs, the worker, the runtime watcher, the metrics reporter. */
export interface MaestroModule {
  readonly name: ModuleName;
  start(): Promise<void>;
  /** Idempotent; resolves when the module's work has stopped. */
  stop(): Promise<void>;
}

export const moduleNames = ["management-api", "rooms-api", "worker", "runtime-watcher", "metrics-reporter"] as const;
export type ModuleName = (typeof moduleNames)[number];
