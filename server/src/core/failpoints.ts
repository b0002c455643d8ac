/**
 * Named points inside operations where a fault test can crash or stall the server (as etcd's gofail does). Inert
 * unless the process installed a handler (only `maestro start` with MAESTRO_FAILPOINTS set does): then each call costs
 * one comparison. Names are `<operation or component>/<step>`; every name in use is listed in failpointNames so a
 * test can walk them all.
 */
export type FailpointHandler = (name: string, detail?: string) => void | Promise<void>;

let handler: FailpointHandler | undefined;

export const failpointNames = [
  "operation/leased",
  "operation/executed",
  "add_rooms/replicas-adjusted",
  "add_rooms/room-created",
  "room/stored",
  "room/spawned",
  "remove_rooms/replicas-adjusted",
  "room/removal-claimed",
  "create_scheduler/runtime-prepared",
  "delete_scheduler/terminating",
  "delete_scheduler/runtime-cleared",
  "delete_scheduler/operations-cleared",
  "create_new_scheduler_version/validated",
  "create_new_scheduler_version/version-stored",
  "validation/room-settled",
  "switch_active_version/switched",
  "health_controller/cleaned",
  "health_controller/enqueued",
  "storage_clean_up/cleaned",
] as const;

export type FailpointName = (typeof failpointNames)[number];

export function installFailpoints(h: FailpointHandler | undefined): void {
  handler = h;
}

/** `detail` narrows where a test arms it, e.g. the operation's definition name for `operation/*` points. */
export function failpoint(name: FailpointName, detail?: string): void | Promise<void> {
  if (handler !== undefined) return handler(name, detail);
}
