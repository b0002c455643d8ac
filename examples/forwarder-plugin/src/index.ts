/**
 * An example Maestro plugin. Build it, install it next to your Maestro config and name it in the `plugins` setting:
 *
 *   MAESTRO_PLUGINS=@maestro/example-forwarder-plugin maestro start
 *
 * It adds the forwarder type `jsonl` (each event appended as one JSON line to the file named by the forwarder's
 * address) and the autoscaling policy `spareRooms` (keep `custom.spare` ready rooms, default two, beyond the busy
 * ones).
 */
import { appendFile } from "node:fs/promises";
import { isAbsolute } from "node:path";
import type {
  AutoscalingPolicy,
  AutoscalingPolicyConfig,
  ForwardCallOptions,
  Forwarder,
  ForwarderPlugin,
  MaestroPlugin,
  RoomsSnapshot,
} from "@maestro/server/plugin";

/** Forwarder type `jsonl`: `address` is an absolute file path. */
export const jsonlForwarder: ForwarderPlugin = {
  type: "jsonl",
  // Without checkAddress Maestro would insist on host:port.
  checkAddress: (address) => (isAbsolute(address) ? undefined : "must be an absolute file path for a jsonl forwarder"),
  create(forwarder: Forwarder) {
    const write = async (event: string, message: unknown, opts: ForwardCallOptions) => {
      // Maestro aborts the signal at the forwarder's timeout; a plugin doing network I/O passes it along.
      opts.signal.throwIfAborted();
      const line = JSON.stringify({ id: opts.eventId, forwarder: forwarder.name, event, message });
      await appendFile(forwarder.address, `${line}\n`);
    };
    return {
      roomResync: (m, o) => write("roomResync", m, o),
      roomStatus: (m, o) => write("roomStatus", m, o),
      roomEvent: (m, o) => write("roomEvent", m, o),
      playerEvent: (m, o) => write("playerEvent", m, o),
    };
  },
};

/** Ready rooms kept beyond the busy ones when the scheduler does not say. */
export const DEFAULT_SPARE = 2;
const MAX_SPARE = 1000;

/** The spare count a scheduler asked for in `autoscaling.policy.parameters.custom.spare`. */
function spareOf(config: AutoscalingPolicyConfig): number {
  const spare = config.parameters.custom?.spare;
  // validate() refused anything else before the scheduler was stored; the default guards older definitions.
  return typeof spare === "number" && Number.isInteger(spare) ? spare : DEFAULT_SPARE;
}

/**
 * Policy `spareRooms`: as many rooms as are busy (occupied, active or allocated) plus `spare` ready ones (parameter
 * `autoscaling.policy.parameters.custom.spare`, default 2). Maestro clamps the answer to the scheduler's autoscaling
 * min and max and applies the cooldown to downscales.
 */
export const spareRoomsPolicy: AutoscalingPolicy = {
  type: "spareRooms",
  desiredRooms(rooms: RoomsSnapshot, config: AutoscalingPolicyConfig): number {
    const busy = rooms.byStatus.occupied + rooms.byStatus.active + rooms.byStatus.allocated;
    return busy + spareOf(config);
  },
  // Give rooms back only while more than the spare ones are ready, so a burst is not answered by a downscale.
  canDownscale(rooms: RoomsSnapshot, config: AutoscalingPolicyConfig): boolean {
    return rooms.byStatus.ready > spareOf(config);
  },
  // Maestro calls this when a scheduler naming spareRooms is created or changed; each problem becomes a 400 naming
  // autoscaling.policy.parameters.custom.<field>.
  validate(parameters) {
    const problems: Array<{ field: string; message: string }> = [];
    for (const key of Object.keys(parameters)) {
      if (key !== "spare") problems.push({ field: key, message: "is not a spareRooms parameter (only spare)" });
    }
    const spare = parameters.spare;
    if (
      spare !== undefined &&
      !(typeof spare === "number" && Number.isInteger(spare) && spare >= 0 && spare <= MAX_SPARE)
    ) {
      problems.push({ field: "spare", message: `must be an integer between 0 and ${MAX_SPARE}` });
    }
    return problems;
  },
};

export const maestroPlugin: MaestroPlugin = {
  name: "@maestro/example-forwarder-plugin",
  forwarders: [jsonlForwarder],
  policies: [spareRoomsPolicy],
};

export default maestroPlugin;
