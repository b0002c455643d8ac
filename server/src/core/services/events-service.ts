import { randomUUID } from "node:crypto";
import type { GameRoom, Instance } from "../entities/game-room.js";
import type { Forwarder, Scheduler } from "../entities/scheduler.js";
import { MaestroError } from "../errors.js";
import type { CallOptions } from "../ports/call-options.js";
import type {
  ForwardCallOptions,
  ForwardedRoom,
  ForwardedRoomStatus,
  ForwarderCatalog,
  ForwarderClient,
  PlayerEventType,
} from "../ports/event-forwarder.js";
import type { ForwardingStats } from "../ports/forwarding-stats.js";
import { noForwardingStats } from "../ports/forwarding-stats.js";
import type { Logger } from "../ports/logger.js";
import type { InstanceStorage, RoomStorage } from "../ports/room-storage.js";
import type { SchedulerStorage } from "../ports/scheduler-storage.js";
import { DeliveryQueue } from "./delivery-queue.js";

/** Maestro's effective deadline when a forwarder sets no timeout. */
export const DEFAULT_FORWARD_TIMEOUT_MS = 1000;

export interface ForwardingLimits {
  /** Deliveries in flight per forwarder. */
  concurrency: number;
  /** Deliveries waiting per forwarder before new ones are shed. */
  queueSize: number;
}

export const defaultForwardingLimits: ForwardingLimits = { concurrency: 16, queueSize: 256 };

export interface EventsServiceDeps {
  /** Read for events not tied to a request that already holds the scheduler: pass a cache. */
  schedulers: Pick<SchedulerStorage, "getScheduler">;
  rooms: Pick<RoomStorage, "getRoom">;
  instances: Pick<InstanceStorage, "getInstance">;
  forwarders: ForwarderCatalog;
  stats?: ForwardingStats | undefined;
  logger: Logger;
  limits?: ForwardingLimits | undefined;
  /** A forwarder's client unused this long is closed (old versions' forwarders); default 10 minutes. */
  clientIdleMs?: number | undefined;
}

interface ClientEntry {
  client: ForwarderClient;
  queue: DeliveryQueue;
  lastUsed: number;
}

type EventName = "resync" | "status" | "roomEvent" | "playerEvent";

interface Delivery {
  event: EventName;
  send(client: ForwarderClient, forwarder: Forwarder, opts: ForwardCallOptions): Promise<void>;
}

/**
 * Builds Maestro's forwarder messages (`eventforwarder.*`, §2.6 of the reference) and delivers them to every enabled
 * forwarder of a scheduler's active version, each through its own bounded queue.
 */
export class EventsService {
  private readonly clients = new Map<string, ClientEntry>();
  private lastSweep = performance.now();
  private readonly stats: ForwardingStats;
  private readonly limits: ForwardingLimits;
  private closed = false;

  constructor(private readonly deps: EventsServiceDeps) {
    this.stats = deps.stats ?? noForwardingStats;
    this.limits = deps.limits ?? defaultForwardingLimits;
  }

  /** Whether events of this scheduler go anywhere; callers skip building them otherwise. */
  hasForwarders(scheduler: Scheduler): boolean {
    return scheduler.forwarders.some((f) => f.enable);
  }

  /**
   * A ping's resync, fire and forget: the ping has answered before delivery ends, and a full queue sheds the event
   * (as Maestro, a failed resync is only logged).
   */
  forwardPing(scheduler: Scheduler, room: GameRoom): void {
    if (!this.hasForwarders(scheduler) || room.isValidationRoom) return;
    const status = room.pingStatus;
    if (status === "unknown") return;
    void this.background(scheduler, room.id, "resync", status, room.metadata);
  }

  /** Forwards `terminated` for a room that is gone or going, fire and forget. */
  roomTerminated(schedulerName: string, room: Pick<GameRoom, "id" | "isValidationRoom" | "metadata">): void {
    if (room.isValidationRoom || this.closed) return;
    void (async () => {
      try {
        const scheduler = await this.deps.schedulers.getScheduler(schedulerName);
        if (!this.hasForwarders(scheduler)) return;
        await this.background(scheduler, room.id, "status", "terminated", room.metadata);
      } catch (err) {
        this.deps.logger.warn({ err, scheduler: schedulerName, room: room.id }, "could not forward room termination");
      }
    })();
  }

  /** `/roomevent`: resolves once every forwarder took the event; rejects with the first failure. */
  async roomEvent(
    schedulerName: string,
    roomId: string,
    event: string,
    metadata: Record<string, unknown>,
    opts: CallOptions = {},
  ): Promise<void> {
    const target = await this.addressedTarget(schedulerName, roomId, opts);
    if (!target) return;
    // As Maestro, an event named after a leaving status tolerates a room whose instance is already gone.
    const address = addressOf(target.instance, event === "terminating" || event === "terminated", roomId);
    const attrs = { ...metadata, eventType: "roomEvent", roomEvent: event, ...address.attrs };
    await this.deliverAll(target.scheduler, opts, {
      event: "roomEvent",
      send: (client, f, call) =>
        client.roomEvent(
          {
            // Here the forwarder's metadata wins (Maestro's mergeInfos(event, forwarder)), and no roomType is set.
            room: forwardedRoom(
              target.scheduler,
              roomId,
              address,
              { ...stringMap(attrs), ...stringMap(forwarderMetadata(f)) },
              "",
            ),
            eventType: event,
          },
          call,
        ),
    });
  }

  /** `/playerevent`. */
  async playerEvent(
    schedulerName: string,
    roomId: string,
    event: PlayerEventType,
    playerId: string,
    metadata: Record<string, unknown>,
    opts: CallOptions = {},
  ): Promise<void> {
    const target = await this.target(schedulerName, roomId, opts);
    if (!target) return;
    await this.deliverAll(target.scheduler, opts, {
      event: "playerEvent",
      send: (client, f, call) => {
        const extra: Record<string, unknown> = { eventType: event };
        const roomType = forwarderMetadata(f).roomType;
        if (roomType !== undefined) extra.roomType = roomType;
        return client.playerEvent(
          {
            playerId,
            room: { game: target.scheduler.game, roomId },
            eventType: event,
            metadata: stringMap({ ...metadata, ...extra }),
          },
          call,
        );
      },
    });
  }

  /** `/status` (deprecated): forwards the status, changes nothing. */
  async roomStatus(
    schedulerName: string,
    roomId: string,
    status: ForwardedRoomStatus,
    metadata: Record<string, unknown>,
    opts: CallOptions = {},
  ): Promise<void> {
    const target = await this.addressedTarget(schedulerName, roomId, opts);
    if (!target) return;
    const { scheduler, instance } = target;
    await this.deliverAll(
      scheduler,
      opts,
      this.statusDelivery(scheduler, roomId, "status", status, metadata, instance),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.allSettled(clients.map((c) => c.client.close?.()));
  }

  /** The scheduler when the room exists and its events go somewhere; undefined when there is nothing to send. */
  private async target(schedulerName: string, roomId: string, opts: CallOptions) {
    const scheduler = await this.deps.schedulers.getScheduler(schedulerName, opts);
    const room = await this.deps.rooms.getRoom(schedulerName, roomId, opts);
    if (!room) throw MaestroError.notFound(`room ${roomId} of scheduler ${schedulerName}`);
    if (room.isValidationRoom || !this.hasForwarders(scheduler)) return undefined;
    return { scheduler, room };
  }

  /** {@link target} and the room's instance, for events that carry the room's address. */
  private async addressedTarget(schedulerName: string, roomId: string, opts: CallOptions) {
    const target = await this.target(schedulerName, roomId, opts);
    if (!target) return undefined;
    return { ...target, instance: await this.deps.instances.getInstance(schedulerName, roomId, opts) };
  }

  private async background(
    scheduler: Scheduler,
    roomId: string,
    kind: "resync" | "status",
    status: ForwardedRoomStatus,
    metadata: Record<string, unknown>,
  ): Promise<void> {
    try {
      const instance = await this.deps.instances.getInstance(scheduler.name, roomId);
      await this.deliverAll(scheduler, {}, this.statusDelivery(scheduler, roomId, kind, status, metadata, instance));
    } catch (err) {
      // A shed is counted in the stats; logging each one would add load exactly when the process is overloaded.
      const level = err instanceof MaestroError && err.code === "resource_exhausted" ? "debug" : "warn";
      this.deps.logger[level]({ err, scheduler: scheduler.name, room: roomId, event: kind }, "event forwarding failed");
    }
  }

  private statusDelivery(
    scheduler: Scheduler,
    roomId: string,
    kind: "resync" | "status",
    status: ForwardedRoomStatus,
    metadata: Record<string, unknown>,
    instance: Instance | undefined,
  ): Delivery {
    const address = addressOf(instance, status === "terminating" || status === "terminated", roomId);
    const attrs: Record<string, unknown> = { ...metadata, eventType: kind, pingType: status, ...address.attrs };
    if (kind === "status") attrs.roomEvent = status;
    return {
      event: kind,
      send: (client, f, call) => {
        const fwd = forwarderMetadata(f);
        const roomType = typeof fwd.roomType === "string" ? fwd.roomType : "";
        // Here the event wins (Maestro's mergeInfos(forwarder, event)).
        const message = {
          room: forwardedRoom(scheduler, roomId, address, { ...stringMap(fwd), ...stringMap(attrs) }, roomType),
          status,
        };
        return kind === "resync" ? client.roomResync(message, call) : client.roomStatus(message, call);
      },
    };
  }

  /** Sends to every enabled forwarder concurrently; rejects with the first failure once all are done. */
  private async deliverAll(scheduler: Scheduler, opts: CallOptions, delivery: Delivery): Promise<void> {
    const eventId = randomUUID();
    const results = await Promise.allSettled(
      scheduler.forwarders.filter((f) => f.enable).map((f) => this.deliver(scheduler, f, delivery, eventId, opts)),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  }

  private async deliver(
    scheduler: Scheduler,
    forwarder: Forwarder,
    delivery: Delivery,
    eventId: string,
    opts: CallOptions,
  ): Promise<void> {
    const { client, queue } = this.clientFor(scheduler.name, forwarder);
    const timeoutMs =
      forwarder.options?.timeout && forwarder.options.timeout > 0
        ? forwarder.options.timeout
        : DEFAULT_FORWARD_TIMEOUT_MS;
    let started = 0;
    const result = await queue.run(async () => {
      started = performance.now();
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout;
      try {
        await delivery.send(client, forwarder, { signal, eventId });
        return undefined;
      } catch (err) {
        return { err, timedOut: timeout.aborted };
      }
    });
    if (result.shed) {
      this.stats.delivered(forwarder.name, delivery.event, "shed", 0);
      throw new MaestroError(
        "resource_exhausted",
        `forwarder ${forwarder.name} of scheduler ${scheduler.name} is overloaded: event ${delivery.event} dropped`,
      );
    }
    const duration = performance.now() - started;
    if (!result.value) {
      this.stats.delivered(forwarder.name, delivery.event, "success", duration);
      return;
    }
    const { err, timedOut } = result.value;
    this.stats.delivered(forwarder.name, delivery.event, timedOut ? "timeout" : "failure", duration);
    const why = timedOut ? `timed out after ${timeoutMs} ms` : errorText(err);
    throw new MaestroError(
      "unavailable",
      `failed to forward ${delivery.event} to forwarder ${forwarder.name} (${forwarder.address}): ${why}`,
    );
  }

  /**
   * One client and queue per scheduler and forwarder configuration: a new version's forwarders start fresh, and one
   * scheduler's burst cannot fill another's queue.
   */
  private clientFor(schedulerName: string, forwarder: Forwarder): ClientEntry {
    const now = performance.now();
    this.closeIdleClients(now);
    const key = JSON.stringify([
      schedulerName,
      forwarder.type,
      forwarder.name,
      forwarder.address,
      forwarder.options ?? null,
    ]);
    let entry = this.clients.get(key);
    if (!entry) {
      const plugin = this.deps.forwarders.get(forwarder.type);
      if (!plugin) {
        throw new MaestroError(
          "failed_precondition",
          `no plugin provides forwarder type ${JSON.stringify(forwarder.type)}`,
        );
      }
      const logger = this.deps.logger.child({ forwarder: forwarder.name, type: forwarder.type });
      entry = {
        client: plugin.create(forwarder, { logger }),
        queue: new DeliveryQueue(this.limits.concurrency, this.limits.queueSize),
        lastUsed: now,
      };
      this.clients.set(key, entry);
    }
    entry.lastUsed = now;
    return entry;
  }

  private closeIdleClients(now: number): void {
    const idleMs = this.deps.clientIdleMs ?? 10 * 60_000;
    if (now - this.lastSweep < idleMs / 10) return;
    this.lastSweep = now;
    for (const [key, entry] of this.clients) {
      if (now - entry.lastUsed < idleMs || entry.queue.size > 0) continue;
      this.clients.delete(key);
      entry.client
        .close?.()
        .catch((err: unknown) => this.deps.logger.warn({ err }, "closing a forwarder client failed"));
    }
  }

  /** Clients kept for forwarders in use (for tests and diagnostics). */
  get openClients(): number {
    return this.clients.size;
  }
}

function forwarderMetadata(f: Forwarder): Record<string, unknown> {
  return f.options?.metadata ?? {};
}

function forwardedRoom(
  scheduler: Scheduler,
  roomId: string,
  address: { host: string; port: number },
  metadata: Record<string, string>,
  roomType: string,
): ForwardedRoom {
  return { game: scheduler.game, roomId, host: address.host, port: address.port, metadata, roomType };
}

/** Room address as Maestro forwards it: host, the `clientPort` (else first) port, and every port as JSON. */
function addressOf(instance: Instance | undefined, tolerateMissing: boolean, roomId: string) {
  const ports = instance?.address?.ports ?? [];
  if (ports.length === 0) {
    if (!tolerateMissing) throw new MaestroError("failed_precondition", `room ${roomId} has no address yet`);
    return { host: instance?.address?.host ?? "", port: 0, attrs: {} };
  }
  const port = (ports.find((p) => p.name === "clientPort") ?? ports[0])?.port ?? 0;
  // Keys sorted as Go's json.Marshal of a map writes them.
  const json = JSON.stringify(ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })));
  return { host: instance?.address?.host ?? "", port, attrs: { ports: json } };
}

/** Every value as a string, the way Maestro's `fmt.Sprintf("%v")` renders JSON scalars. */
export function stringMap(values: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined) continue;
    if (typeof v === "string") out[k] = v;
    else if (v === null) out[k] = "<nil>";
    else if (typeof v === "object") out[k] = JSON.stringify(v);
    else out[k] = String(v);
  }
  return out;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
