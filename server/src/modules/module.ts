import type { ContextPart } from "../wiring/maestro-context.js";

/** A unit `maestro start` can run: the APIs, the worker, the runtime watcher, the metrics reporter. */
export interface MaestroModule {
  readonly name: ModuleName;
  start(): Promise<void>;
  /**
   * Stops taking new work and waits for work in progress (an operation) until `deadline` (epoch ms) while the other
   * modules keep running; called on every module before any stop().
   */
  drain?(deadline: number): Promise<void>;
  /**
   * Idempotent; resolves when the module's work has stopped. Requests in flight may finish until `deadline` (epoch
   * ms, default now), then are cut.
   */
  stop(deadline?: number): Promise<void>;
}

export const moduleNames = ["management-api", "rooms-api", "worker", "runtime-watcher", "metrics-reporter"] as const;
export type ModuleName = (typeof moduleNames)[number];

/**
 * The adapters each module needs opened before it starts; a process opens the union of its modules' parts. The
 * management API opens the runtime itself on the first RPC that needs it (room usage, logs).
 */
export const moduleParts: Record<ModuleName, readonly ContextPart[]> = {
  "management-api": ["scheduler-storage", "room-storage", "operation-storage"],
  "rooms-api": ["scheduler-storage", "room-storage"],
  worker: ["scheduler-storage", "room-storage", "operation-storage", "runtime"],
  "runtime-watcher": ["scheduler-storage", "room-storage", "runtime"],
  "metrics-reporter": ["scheduler-storage", "room-storage", "runtime"],
};
