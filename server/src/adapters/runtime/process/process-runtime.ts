import { access, constants, mkdir, rm } from "node:fs/promises";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import type { GameRoom, Instance, InstanceEvent } from "../../../core/entities/game-room.js";
import type { RoomUsage } from "../../../core/entities/room-usage.js";
import type { Scheduler } from "../../../core/entities/scheduler.js";
import { parseQuantity } from "../../../core/entities/scheduler-validation.js";
import { type FieldViolation, MaestroError } from "../../../core/errors.js";
import type { CallOptions } from "../../../core/ports/call-options.js";
import { type Logger, silentLogger } from "../../../core/ports/logger.js";
import type { AllocatedPort, RoomEnvironment, Runtime } from "../../../core/ports/runtime.js";
import { keepCrashedLog, readRoomLog } from "./crashed-logs.js";
import { fieldsIgnoredByProcessRuntime } from "./ignored-fields.js";
import { InstanceEventHub } from "./instance-events.js";
import { removePidFile, writePidFile } from "./pid-file.js";
import { ProcessRoom } from "./process-room.js";
import { reapLeftovers } from "./reaper.js";
import { containerEnvironment, refusedByProcessRuntime, validateContainers } from "./room-env.js";
import { type ProcessRoomUsage, RoomUsageSampler } from "./room-usage-sampler.js";
import { RoomUsers } from "./run-as.js";

export interface ProcessRuntimeOptions {
  /**
   * Home of every scheduler (`<dataDir>/<scheduler>/`) and room (`<dataDir>/<scheduler>/<room>/`). Give the runtime a
   * directory of its own: deleteScheduler removes `<dataDir>/<name>` whatever it holds, and start() stops the rooms
   * recorded there, so two servers must never share it.
   */
  dataDir: string;
  /** Address clients use to reach rooms; also what `status.hostIP`/`status.podIP` resolve to. */
  host?: string;
  logger?: Pick<Logger, "info" | "warn" | "error">;
  /**
   * Working directory of room processes. Defaults to the server's own, so a relative command path in a scheduler
   * (`node examples/game-room/dist/main.js`) means what it means where Maestro was started.
   */
  workingDir?: string;
  /** `runtime.process.runAsUser`: a user, a uid or a uid range FROM-TO (one uid per room); see RoomUsers. */
  runAsUser?: string;
}

/** Longest close() waits between SIGTERM and SIGKILL, so a server shutdown is not held up by long grace periods. */
const MAX_CLOSE_GRACE_MS = 5_000;

/** Names become directory names: refuse anything that could climb out of dataDir. */
const safeName = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Rooms as child processes on this machine: the embedded default. A crashed server's rooms are stopped by the next
 * one on the same dataDir (see start()).
 */
export class ProcessRuntime implements Runtime {
  readonly name = "process";
  /** One data directory holds the rooms of one server at a time (the data-dir lock), on one host. */
  readonly identity: string;
  private readonly dataDir: string;
  private readonly host: string;
  private readonly workingDir: string;
  private readonly logger: Pick<Logger, "info" | "warn" | "error">;
  private readonly rooms = new Map<string, Map<string, ProcessRoom>>();
  /** Rooms being stopped → the promise that resolves once they are stopped and forgotten. */
  private readonly removals = new Map<ProcessRoom, Promise<void>>();
  private readonly events = new InstanceEventHub();
  private readonly usage = new RoomUsageSampler();
  private lastUsage: { at: Date; byRoom: Map<string, ProcessRoomUsage> } | undefined;
  private readonly runAs: RoomUsers | undefined;
  private started?: Promise<void>;
  private closed = false;
  private version = 0;

  constructor(opts: ProcessRuntimeOptions) {
    this.dataDir = resolve(opts.dataDir);
    this.identity = `process:${hostname()}:${this.dataDir}`;
    this.host = opts.host ?? "127.0.0.1";
    this.workingDir = resolve(opts.workingDir ?? process.cwd());
    this.logger = opts.logger ?? silentLogger;
    this.runAs = RoomUsers.fromSetting(opts.runAsUser ?? "");
  }

  /**
   * Creates dataDir and stops rooms a previous server process left behind. Every other method awaits it, so calling
   * it is only needed to know when the leftovers are gone.
   */
  start(): Promise<void> {
    this.started ??= (async () => {
      try {
        await mkdir(this.dataDir, { recursive: true });
        const reaped = await reapLeftovers(this.dataDir, this.logger);
        if (reaped > 0) this.logger.info({ rooms: reaped }, "stopped rooms left by a previous server");
      } catch (err) {
        throw MaestroError.from(err);
      }
    })();
    return this.started;
  }

  refusedFields(scheduler: Scheduler): FieldViolation[] {
    return refusedByProcessRuntime(scheduler);
  }

  async createScheduler(scheduler: Scheduler, opts: CallOptions = {}): Promise<void> {
    this.checkOpen(opts);
    checkName("scheduler name", scheduler.name);
    await this.start();
    try {
      await mkdir(this.schedulerDir(scheduler.name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") {
        throw new MaestroError("already_exists", `scheduler ${scheduler.name} already exists in the process runtime`);
      }
      throw MaestroError.from(err);
    }
    const ignored = fieldsIgnoredByProcessRuntime(scheduler);
    if (ignored.length > 0) {
      this.logger.info(
        { scheduler: scheduler.name, ignored },
        `the process runtime ignores these fields of scheduler ${scheduler.name}: ${ignored.join(", ")}`,
      );
    }
  }

  async deleteScheduler(scheduler: Scheduler, opts: CallOptions = {}): Promise<void> {
    this.checkOpen(opts);
    checkName("scheduler name", scheduler.name);
    await this.start();
    const rooms = [...(this.rooms.get(scheduler.name)?.values() ?? [])];
    await abortable(
      Promise.all(
        rooms.map((room) => this.stopRoom(scheduler.name, room, "scheduler deleted", room.graceSeconds * 1000)),
      ),
      opts.signal,
    );
    await rm(this.schedulerDir(scheduler.name), { recursive: true, force: true }).catch((err: unknown) => {
      throw MaestroError.from(err);
    });
  }

  async createRoom(
    scheduler: Scheduler,
    room: GameRoom,
    ports: AllocatedPort[],
    env: RoomEnvironment,
    opts: CallOptions = {},
  ): Promise<Instance> {
    this.checkOpen(opts);
    checkName("scheduler name", scheduler.name);
    checkName("room id", room.id);
    const containers = scheduler.spec.containers;
    if (containers.length === 0) {
      throw MaestroError.invalid([{ field: "spec.containers", message: "at least one container is needed" }]);
    }
    validateContainers(containers);
    await this.start();
    const dir = join(this.schedulerDir(scheduler.name), room.id);
    if (this.findRoom(scheduler.name, room.id)) throw alreadyExists(scheduler.name, room.id);
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw MaestroError.from(err);
    }
    this.checkOpen(opts);
    if (this.findRoom(scheduler.name, room.id)) throw alreadyExists(scheduler.name, room.id);

    const identity = { schedulerName: scheduler.name, roomId: room.id, host: this.host };
    const processRoom: ProcessRoom = new ProcessRoom({
      schedulerName: scheduler.name,
      roomId: room.id,
      dir,
      cwd: this.workingDir,
      host: this.host,
      owner: this.identity,
      ports,
      graceSeconds: scheduler.spec.terminationGracePeriodSeconds,
      containers: containers.map((c) => ({
        name: c.name,
        command: c.command,
        env: this.withHome(containerEnvironment(c, identity, ports, env)),
      })),
      logger: this.logger,
      onChange: () => this.emit(scheduler.name, "updated", processRoom),
      onSpawned: async () => {
        try {
          await writePidFile(dir, processRoom.pidRecord());
        } catch (err) {
          this.logger.error({ err, room: room.id }, "cannot write the room's pid file; a crash would leave it running");
        }
      },
      runAs: this.runAs?.take(),
    });
    const schedulerRooms = this.rooms.get(scheduler.name) ?? new Map<string, ProcessRoom>();
    this.rooms.set(scheduler.name, schedulerRooms);
    schedulerRooms.set(room.id, processRoom);
    this.emit(scheduler.name, "added", processRoom);
    await processRoom.start();
    return processRoom.instance(String(this.version));
  }

  async deleteRoom(schedulerName: string, roomId: string, reason: string, opts: CallOptions = {}): Promise<void> {
    checkSignal(opts.signal);
    const room = this.findRoom(schedulerName, roomId);
    if (!room) throw MaestroError.notFound(`room ${roomId} of scheduler ${schedulerName}`);
    // Not awaited: the caller learns of the exit through watch, as with a pod deletion.
    void this.stopRoom(schedulerName, room, reason, room.graceSeconds * 1000);
  }

  async listInstances(schedulerName: string, opts: CallOptions = {}): Promise<Instance[]> {
    checkSignal(opts.signal);
    const version = String(this.version);
    return [...(this.rooms.get(schedulerName)?.values() ?? [])].map((room) => room.instance(version));
  }

  watch(schedulerName: string, opts: Required<CallOptions>): AsyncIterable<InstanceEvent> {
    // Snapshot and subscription happen in the same tick, so no change can fall between them.
    const version = String(this.version);
    const initial = [...(this.rooms.get(schedulerName)?.values() ?? [])].map(
      (room): InstanceEvent => ({ type: "added", instance: room.instance(version) }),
    );
    return this.events.subscribe(schedulerName, initial, opts.signal);
  }

  async roomUsage(scheduler: Scheduler, opts: CallOptions = {}): Promise<RoomUsage[]> {
    checkSignal(opts.signal);
    const { at, byRoom } = this.sampleAllRooms();
    // Processes have no requests of their own: the scheduler's spec says what each room may count on.
    const cpuRequest = sumRequests(scheduler, "cpu") * 1000;
    const memoryRequest = sumRequests(scheduler, "memory");
    return [...(this.rooms.get(scheduler.name)?.values() ?? [])].flatMap((room) => {
      const u = byRoom.get(usageKey(scheduler.name, room.id));
      return u
        ? [
            {
              roomId: room.id,
              ...u,
              cpuRequestMillicores: cpuRequest,
              memoryRequestBytes: memoryRequest,
              sampledAt: at,
            },
          ]
        : [];
    });
  }

  /**
   * One /proc scan for the rooms of every scheduler, reused for a second: each autoscaled scheduler, the dashboard and
   * /metrics ask on their own, and a scan reads every process's stat (about 100 ms with 600 processes).
   */
  private sampleAllRooms(): { at: Date; byRoom: Map<string, ProcessRoomUsage> } {
    const now = Date.now();
    if (this.lastUsage && now - this.lastUsage.at.getTime() < USAGE_REUSE_MS) return this.lastUsage;
    const rooms = [...this.rooms].flatMap(([schedulerName, byId]) =>
      [...byId.values()].map((r) => ({ id: usageKey(schedulerName, r.id), pgids: r.processGroups })),
    );
    this.lastUsage = { at: new Date(now), byRoom: this.usage.sample("all", rooms, now) };
    return this.lastUsage;
  }

  async roomLog(
    schedulerName: string,
    roomId: string,
    tailLines: number,
    opts: CallOptions = {},
  ): Promise<{ log: string; crashed: boolean }> {
    checkSignal(opts.signal);
    return readRoomLog(this.dataDir, schedulerName, roomId, tailLines);
  }

  async portsInUse(opts: CallOptions = {}): Promise<Set<number>> {
    checkSignal(opts.signal);
    const ports = new Set<number>();
    for (const rooms of this.rooms.values())
      for (const room of rooms.values()) for (const p of room.hostPorts) ports.add(p);
    return ports;
  }

  /** Rooms need their folders: a missing, full-permission-less or read-only rooms folder shows up here. */
  async ready(opts: CallOptions = {}): Promise<void> {
    if (opts.signal?.aborted) throw MaestroError.from(opts.signal.reason, "canceled");
    if (this.closed) throw new MaestroError("unavailable", "the process runtime is closed");
    await this.start();
    try {
      await access(this.dataDir, constants.W_OK);
    } catch (err) {
      throw new MaestroError("unavailable", `rooms folder ${this.dataDir} is not writable: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.started) await this.started.catch(() => undefined);
    for (const [schedulerName, rooms] of this.rooms) {
      for (const room of rooms.values()) {
        void this.stopRoom(
          schedulerName,
          room,
          "runtime closed",
          Math.min(room.graceSeconds * 1000, MAX_CLOSE_GRACE_MS),
        );
      }
    }
    while (this.removals.size > 0) await Promise.all([...this.removals.values()]);
    this.events.close();
  }

  /** Stops a room and, once nothing of it runs, forgets it and removes its directory. */
  private stopRoom(schedulerName: string, room: ProcessRoom, reason: string, graceMs: number): Promise<void> {
    // Decided before the stop: a room that is stopped ends by a signal, which is no crash of its own.
    const crashed = room.instance("").status.type === "error";
    const stopped = room.stop(reason, graceMs);
    const pending = this.removals.get(room);
    if (pending) return pending;
    const removal = (async () => {
      await stopped;
      this.runAs?.release(room.runAs);
      const rooms = this.rooms.get(schedulerName);
      if (rooms?.get(room.id) !== room) return;
      rooms.delete(room.id);
      if (rooms.size === 0) this.rooms.delete(schedulerName);
      const dir = join(this.schedulerDir(schedulerName), room.id);
      await removePidFile(dir).catch(() => undefined);
      if (crashed) {
        await keepCrashedLog(this.schedulerDir(schedulerName), room.id, dir).catch((err: unknown) =>
          this.logger.warn({ err, room: room.id }, "cannot keep the crashed room's log"),
        );
      }
      await rm(dir, { recursive: true, force: true }).catch((err: unknown) =>
        this.logger.warn({ err, room: room.id }, "cannot remove the room's directory"),
      );
      this.emit(schedulerName, "deleted", room);
    })();
    this.removals.set(room, removal);
    void removal.finally(() => this.removals.delete(room));
    return removal;
  }

  private withHome(env: Record<string, string>): Record<string, string> {
    if (this.runAs) env.HOME = this.runAs.home();
    return env;
  }

  private emit(schedulerName: string, type: InstanceEvent["type"], room: ProcessRoom): void {
    this.version++;
    this.events.emit(schedulerName, { type, instance: room.instance(String(this.version)) });
  }

  private findRoom(schedulerName: string, roomId: string): ProcessRoom | undefined {
    return this.rooms.get(schedulerName)?.get(roomId);
  }

  private schedulerDir(schedulerName: string): string {
    return join(this.dataDir, schedulerName);
  }

  private checkOpen(opts: CallOptions): void {
    checkSignal(opts.signal);
    if (this.closed) throw new MaestroError("unavailable", "the process runtime is closed");
  }
}

function checkSignal(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw MaestroError.from(signal.reason, "canceled");
}

function checkName(what: string, name: string): void {
  if (!safeName.test(name)) {
    throw new MaestroError("invalid_argument", `${what} ${JSON.stringify(name)} cannot name a directory`);
  }
}

function alreadyExists(schedulerName: string, roomId: string): MaestroError {
  return new MaestroError("already_exists", `room ${roomId} of scheduler ${schedulerName} already exists`);
}

/** Waits for `work` unless the signal aborts first; the work itself goes on (rooms still get stopped). */
async function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  checkSignal(signal);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(MaestroError.from(signal.reason, "canceled"));
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    if (onAbort) signal.removeEventListener("abort", onAbort);
  }
}

function sumRequests(scheduler: Scheduler, kind: "cpu" | "memory"): number {
  return scheduler.spec.containers.reduce((sum, c) => sum + (parseQuantity(c.requests?.[kind] ?? "") ?? 0), 0);
}

/** Reuse window of one /proc scan; the sampler's own minimum CPU window is the same second. */
const USAGE_REUSE_MS = 1_000;

function usageKey(schedulerName: string, roomId: string): string {
  return `${schedulerName}/${roomId}`;
}
