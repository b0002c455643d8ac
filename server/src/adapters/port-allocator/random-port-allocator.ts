import type { PortRange, Scheduler } from "../../core/entities/scheduler.js";
import { MaestroError } from "../../core/errors.js";
import type { CallOptions } from "../../core/ports/call-options.js";
import type { PortAllocator } from "../../core/ports/port-allocator.js";
import type { AllocatedPort } from "../../core/ports/runtime.js";

export { isPortFree } from "./is-port-free.js";

export interface RandomPortAllocatorOptions {
  /** Host ports held by live rooms (Runtime.portsInUse). */
  portsInUse: (opts?: CallOptions) => Promise<Set<number>>;
  /** Extra check that nothing else on the machine holds a port (isPortFree); busy ports are skipped. */
  isFree?: (port: number, protocol: string) => Promise<boolean>;
  /** A number in [0, 1); Math.random by default, seeded in tests. */
  random?: () => number;
  /**
   * What goes in AllocatedPort.containerPort. `host` (default) is for the process runtime: a room is a process that
   * binds the host port itself, so there is no other port inside. `declared` keeps the spec's port, for runtimes that
   * map the host port onto a container port (Kubernetes hostPort).
   */
  containerPort?: "host" | "declared";
}

/** Random draws before sweeping the range, so that a nearly full range still finds its last free ports. */
const RANDOM_DRAWS = 16;

/**
 * Maestro's random allocator, without its collisions: a port is never one a live room holds nor one handed out and not
 * released yet. A handed-out port stops being reserved once the runtime reports it in use (the report protects it from
 * then on, and it is free once its room is gone), so a release missed by another server replica does not leak it.
 */
export class RandomPortAllocator implements PortAllocator {
  private readonly reserved = new Set<number>();
  private readonly random: () => number;

  constructor(private readonly opts: RandomPortAllocatorOptions) {
    this.random = opts.random ?? Math.random;
  }

  async allocate(scheduler: Scheduler, opts: CallOptions = {}): Promise<AllocatedPort[]> {
    checkSignal(opts.signal);
    const requests = scheduler.spec.containers.flatMap((container, i) =>
      container.ports.map((port, j) => ({ port, field: `spec.containers[${i}].ports[${j}]` })),
    );
    if (requests.length === 0) return [];
    let inUse: Set<number>;
    try {
      inUse = await this.opts.portsInUse(opts);
    } catch (err) {
      throw MaestroError.from(err);
    }
    this.forgetGone(inUse);
    const taken: number[] = [];
    try {
      const allocated: AllocatedPort[] = [];
      for (const { port, field } of requests) {
        const range = port.hostPortRange ?? scheduler.portRange;
        if (!range) {
          throw MaestroError.invalid([
            {
              field: `${field}.hostPortRange`,
              message: "no host port range: set portRange or every port's hostPortRange",
            },
          ]);
        }
        const rangeField = port.hostPortRange ? `${field}.hostPortRange` : "portRange";
        const hostPort = await this.pick(range, rangeField, port.protocol, inUse, opts.signal);
        taken.push(hostPort);
        const containerPort = this.opts.containerPort === "declared" ? port.port : hostPort;
        allocated.push({ name: port.name, protocol: port.protocol, containerPort, hostPort });
      }
      return allocated;
    } catch (err) {
      this.release(taken);
      throw MaestroError.from(err);
    }
  }

  release(ports: readonly number[]): void {
    for (const port of ports) this.reserved.delete(port);
  }

  /**
   * A reservation bridges the time until the runtime reports the port: from then on the runtime's report protects it,
   * and once the report stops the port is free. Dropping it at first sight keeps the walk here to the ports still in
   * flight (walking every live room's port on each allocation was quadratic at 10,000 rooms).
   */
  private forgetGone(inUse: Set<number>): void {
    for (const port of this.reserved.keys()) if (inUse.has(port)) this.reserved.delete(port);
  }

  private async pick(
    range: PortRange,
    field: string,
    protocol: string,
    inUse: Set<number>,
    signal: AbortSignal | undefined,
  ): Promise<number> {
    const size = range.end - range.start + 1;
    if (!Number.isInteger(size) || size <= 0 || range.start < 1 || range.end > 65535) {
      throw MaestroError.invalid([{ field, message: `invalid port range ${range.start}-${range.end}` }]);
    }
    const busy = new Set<number>();
    const tryPort = async (port: number): Promise<boolean> => {
      if (inUse.has(port) || this.reserved.has(port) || busy.has(port)) return false;
      // Held before the check so that a concurrent allocate cannot pick it while isFree runs.
      this.reserved.add(port);
      let free = true;
      try {
        free = this.opts.isFree ? await this.opts.isFree(port, protocol) : true;
      } catch {
        free = false;
      }
      if (!free) {
        this.reserved.delete(port);
        busy.add(port);
      }
      return free;
    };
    const offset = () => Math.min(Math.floor(this.random() * size), size - 1);
    for (let i = 0; i < Math.min(RANDOM_DRAWS, size); i++) {
      checkSignal(signal);
      const port = range.start + offset();
      if (await tryPort(port)) return port;
    }
    const from = offset();
    for (let i = 0; i < size; i++) {
      if (i % 256 === 0) checkSignal(signal);
      const port = range.start + ((from + i) % size);
      if (await tryPort(port)) return port;
    }
    throw new MaestroError("resource_exhausted", `no free host port left in ${field} ${range.start}-${range.end}`);
  }
}

function checkSignal(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw MaestroError.from(signal.reason, "canceled");
}
