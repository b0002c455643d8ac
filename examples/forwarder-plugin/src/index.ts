/**
 * An example Maestro plugin. Build it, install it next to your Maestro config and name it in the `plugins` setting:
 *
 *   MAESTRO_PLUGINS=@maestro/example-forwarder-plugin maestro start
 *
 * It adds the forwarder type `jsonl` (each event appended as one JSON line to the file named by the forwarder's
 * address) and the autoscaling policy `spareRooms` (keep two ready rooms beyond the busy ones).
 */
import { appendFile } from "node:fs/promises";
import { isAbsolute } from "node:path";
import type {
  AutoscalingPolicy,
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

/** Rooms kept ready beyond the busy ones. */
const SPARE = 2;

/**
 * Policy `spareRooms`: as many rooms as are busy (occupied, active or allocated) plus two ready ones. Maestro clamps
 * the answer to the scheduler's autoscaling min and max and applies the cooldown to downscales.
 */
export const spareRoomsPolicy: AutoscalingPolicy = {
  type: "spareRooms",
  desiredRooms(rooms: RoomsSnapshot): number {
    const busy = rooms.byStatus.occupied + rooms.byStatus.active + rooms.byStatus.allocated;
    return busy + SPARE;
  },
  // Give rooms back only while more than the spare ones are ready, so a burst is not answered by a downscale.
  canDownscale(rooms: RoomsSnapshot): boolean {
    return rooms.byStatus.ready > SPARE;
  },
};

export const maestroPlugin: MaestroPlugin = {
  name: "@maestro/example-forwarder-plugin",
  forwarders: [jsonlForwarder],
  policies: [spareRoomsPolicy],
};

export default maestroPlugin;
