import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import type { Instance, InstanceStatusType } from "../../../core/entities/game-room.js";
import type { Logger } from "../../../core/ports/logger.js";
import type { AllocatedPort } from "../../../core/ports/runtime.js";
import { crashLine } from "../crash-line.js";
import type { PidRecord } from "./pid-file.js";
import { isGroupAlive, isProcessAlive, processStartTime, signalGroup } from "./process-group.js";
import { RoomLog } from "./room-log.js";
import { pollUntil } from "./wait.js";

/** After a process exits, how long to wait for its stdout/stderr to close (a grandchild may hold them open). */
const STDIO_DRAIN_MS = 1_000;
/** How long SIGKILLed processes get to disappear before the room is removed anyway. */
const KILL_WAIT_MS = 5_000;
/** How much of a process's stderr is kept to report its last line. */
const STDERR_TAIL = 4 * 1024;

export interface ContainerProcessSpec {
  name: string;
  command: string[];
  env: Record<string, string>;
}

/** Who a room's processes run as (setuid/setgid at spawn; the server must be root to pick another user). */
export interface RunAs {
  uid: number;
  gid: number;
}

export interface ProcessRoomOptions {
  schedulerName: string;
  roomId: string;
  /** The room's own directory (log, pid file). */
  dir: string;
  /** Working directory of the room's processes. */
  cwd: string;
  host: string;
  /** The runtime's identity, copied into every instance of the room. */
  owner?: string | undefined;
  ports: readonly AllocatedPort[];
  graceSeconds: number;
  containers: readonly ContainerProcessSpec[];
  logger: Pick<Logger, "warn">;
  /** Called whenever the room's status changes. */
  onChange: () => void;
  /**
   * Awaited after each process is spawned, before the next: where the runtime records the pid, so a crash mid-start
   * leaves no process nobody knows about.
   */
  onSpawned?: () => Promise<void>;
  runAs?: RunAs | undefined;
}

interface Status {
  type: InstanceStatusType;
  description: string;
}

/** One container's process and what became of it. */
class ContainerProcess {
  child?: ChildProcess;
  pid?: number;
  startTime?: string | undefined;
  spawned = false;
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  spawnError?: Error;
  /** Exit seen and stdio drained: the outcome is final. */
  finished = false;
  /** The process group has no live member left; its id may belong to someone else from now on. */
  groupGone = false;
  stderrTail = "";

  constructor(readonly spec: ContainerProcessSpec) {}

  status(): Status {
    if (this.spawnError) return { type: "error", description: `failed to start: ${this.spawnError.message}` };
    if (this.finished && this.exit) {
      const { code, signal } = this.exit;
      if (signal) return { type: "error", description: `killed by ${signal}` };
      if (code === 0) return { type: "terminating", description: "exited with code 0" };
      const line = crashLine(this.stderrTail);
      return { type: "error", description: line ? `exit code ${code}: ${line}` : `exit code ${code}` };
    }
    if (!this.spawned) return { type: "pending", description: "starting" };
    return { type: "ready", description: "running" };
  }
}

const severity: Record<InstanceStatusType, number> = { ready: 0, unknown: 1, pending: 2, terminating: 3, error: 4 };

/** A room run as one child process per container, each in its own process group, sharing one log file. */
export class ProcessRoom {
  private readonly processes: ContainerProcess[];
  private readonly log: RoomLog;
  private deleting?: string;
  private current: Status = { type: "pending", description: "starting" };
  private resolveExited!: () => void;
  /** Resolves once every process has exited (or failed to start) and its output is drained. */
  readonly exited = new Promise<void>((resolve) => {
    this.resolveExited = resolve;
  });
  private stopping?: Promise<void>;
  private killAt = Number.POSITIVE_INFINITY;
  private killTimer?: NodeJS.Timeout;

  constructor(private readonly opts: ProcessRoomOptions) {
    this.processes = opts.containers.map((spec) => new ContainerProcess(spec));
    this.log = new RoomLog(join(opts.dir, "room.log"), (err) =>
      opts.logger.warn({ err, room: opts.roomId }, "cannot write room log"),
    );
  }

  get id(): string {
    return this.opts.roomId;
  }

  get graceSeconds(): number {
    return this.opts.graceSeconds;
  }

  get hostPorts(): number[] {
    return this.opts.ports.map((p) => p.hostPort);
  }

  get runAs(): RunAs | undefined {
    return this.opts.runAs;
  }

  /** Process groups of the containers still running (each leader's pid is its group id). */
  get processGroups(): number[] {
    return this.processes.flatMap((p) => (p.pid === undefined || p.groupGone ? [] : [p.pid]));
  }

  /**
   * Spawns the containers' processes one at a time, recording each before the next and yielding to the event loop in
   * between (a spawn is synchronous: many in one go would stall every request). A stop() meanwhile spawns no more.
   * Outcomes arrive later through onChange.
   */
  async start(): Promise<void> {
    const several = this.processes.length > 1;
    for (const proc of this.processes) {
      if (this.deleting !== undefined) {
        proc.finished = true;
        proc.groupGone = true;
        continue;
      }
      this.spawn(proc, several);
      await this.opts.onSpawned?.();
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.checkAllExited();
  }

  pidRecord(): PidRecord {
    return {
      schedulerName: this.opts.schedulerName,
      roomId: this.opts.roomId,
      graceSeconds: this.opts.graceSeconds,
      processes: this.processes.flatMap((p) =>
        p.pid === undefined ? [] : [{ container: p.spec.name, pid: p.pid, startTime: p.startTime }],
      ),
    };
  }

  instance(resourceVersion: string): Instance {
    return {
      id: this.opts.roomId,
      schedulerName: this.opts.schedulerName,
      status: { ...this.current },
      address: {
        host: this.opts.host,
        ports: this.opts.ports.map((p) => ({ name: p.name, port: p.hostPort, protocol: p.protocol })),
      },
      resourceVersion,
      pids: this.processes.flatMap((p) => (p.pid === undefined ? [] : [p.pid])),
      ...(this.opts.owner === undefined ? {} : { owner: this.opts.owner }),
    };
  }

  /**
   * SIGTERM to every process group, SIGKILL once `graceMs` has passed; resolves when no process of the room is left.
   * Calling it again only ever brings the SIGKILL closer.
   */
  stop(reason: string, graceMs: number): Promise<void> {
    const killAt = Date.now() + Math.max(graceMs, 0);
    if (killAt < this.killAt) {
      this.killAt = killAt;
      clearTimeout(this.killTimer);
      this.killTimer = setTimeout(() => this.signalAll("SIGKILL"), killAt - Date.now());
    }
    if (this.stopping) return this.stopping;
    this.deleting = reason || "deleted";
    this.refresh();
    this.signalAll("SIGTERM");
    this.stopping = (async () => {
      await this.exited;
      // The leaders are gone; members they left in their groups get what remains of the grace.
      if (!(await pollUntil(() => this.liveGroups().length === 0, this.killAt - Date.now(), 100))) {
        this.signalAll("SIGKILL");
        if (!(await pollUntil(() => this.liveGroups().length === 0, KILL_WAIT_MS, 100))) {
          this.opts.logger.warn({ room: this.opts.roomId }, "room processes survived SIGKILL");
        }
      }
      clearTimeout(this.killTimer);
      for (const proc of this.processes) {
        proc.child?.stdout?.destroy();
        proc.child?.stderr?.destroy();
      }
      await this.log.close();
    })();
    return this.stopping;
  }

  private spawn(proc: ContainerProcess, several: boolean): void {
    const [file, ...args] = proc.spec.command;
    let child: ChildProcess;
    try {
      child = spawn(file ?? "", args, {
        cwd: this.opts.cwd,
        env: proc.spec.env,
        // Own process group, so that a signal to -pid reaches whatever the room starts itself.
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
        ...(this.opts.runAs ? { uid: this.opts.runAs.uid, gid: this.opts.runAs.gid } : {}),
      });
    } catch (err) {
      proc.spawnError = err instanceof Error ? err : new Error(String(err));
      proc.finished = true;
      proc.groupGone = true;
      this.refresh();
      return;
    }
    proc.child = child;
    proc.pid = child.pid;
    if (child.pid !== undefined) proc.startTime = processStartTime(child.pid);
    const prefix = several ? proc.spec.name : undefined;
    const out = this.log.writer(prefix);
    const err = this.log.writer(prefix);
    child.stdout?.on("data", (chunk: Buffer) => out.write(chunk));
    child.stderr?.on("data", (chunk: Buffer) => {
      err.write(chunk);
      proc.stderrTail = (proc.stderrTail + chunk.toString("utf8")).slice(-STDERR_TAIL);
    });

    let drainTimer: NodeJS.Timeout | undefined;
    const finish = () => {
      if (proc.finished) return;
      clearTimeout(drainTimer);
      out.flush();
      err.flush();
      proc.finished = true;
      if (proc.pid === undefined || !isGroupAlive(proc.pid)) proc.groupGone = true;
      this.refresh();
      this.checkAllExited();
    };
    child.once("spawn", () => {
      proc.spawned = true;
      this.refresh();
    });
    child.on("error", (error) => {
      if (proc.spawned) {
        this.opts.logger.warn({ err: error, room: this.opts.roomId, container: proc.spec.name }, "room process error");
        return;
      }
      proc.spawnError = error;
      proc.groupGone = true;
      finish();
    });
    child.once("exit", (code, signal) => {
      proc.exit = { code, signal };
      drainTimer = setTimeout(finish, STDIO_DRAIN_MS);
    });
    child.once("close", finish);
  }

  private refresh(): void {
    const next = this.computeStatus();
    if (next.type === this.current.type && next.description === this.current.description) return;
    this.current = next;
    this.opts.onChange();
  }

  private computeStatus(): Status {
    if (this.deleting !== undefined) return { type: "terminating", description: this.deleting };
    let worst: ContainerProcess | undefined;
    let worstStatus: Status = { type: "ready", description: "running" };
    for (const proc of this.processes) {
      const status = proc.status();
      if (!worst || severity[status.type] > severity[worstStatus.type]) {
        worst = proc;
        worstStatus = status;
      }
    }
    if (worst && this.processes.length > 1) {
      return { type: worstStatus.type, description: `${worst.spec.name}: ${worstStatus.description}` };
    }
    return worstStatus;
  }

  private checkAllExited(): void {
    if (this.processes.every((p) => p.finished)) this.resolveExited();
  }

  /** Groups that may still have members, forgetting those that are gone so their id is never signalled again. */
  private liveGroups(): ContainerProcess[] {
    return this.processes.filter((p) => {
      if (p.groupGone || p.pid === undefined) return false;
      // Our leader was reaped, so a live process with its pid is a newcomer that reused it.
      if (p.finished && isProcessAlive(p.pid)) p.groupGone = true;
      else if (!isGroupAlive(p.pid)) p.groupGone = true;
      return !p.groupGone;
    });
  }

  private signalAll(signal: NodeJS.Signals): void {
    for (const proc of this.liveGroups()) {
      try {
        if (!signalGroup(proc.pid!, signal)) proc.groupGone = true;
      } catch (err) {
        this.opts.logger.warn({ err, room: this.opts.roomId, pid: proc.pid, signal }, "cannot signal room process");
      }
    }
  }
}
