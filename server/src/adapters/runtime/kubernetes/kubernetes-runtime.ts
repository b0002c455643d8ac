import { randomUUID } from "node:crypto";
import type { V1Pod } from "@kubernetes/client-node";
import { abortableSleep } from "../../../core/delay.js";
import type { GameRoom, Instance, InstanceEvent } from "../../../core/entities/game-room.js";
import type { RoomUsage } from "../../../core/entities/room-usage.js";
import type { Scheduler } from "../../../core/entities/scheduler.js";
import { MaestroError } from "../../../core/errors.js";
import type { CallOptions } from "../../../core/ports/call-options.js";
import type { CrashedRoomLogs } from "../../../core/ports/crashed-room-logs.js";
import { type Logger, silentLogger } from "../../../core/ports/logger.js";
import type { AllocatedPort, RoomEnvironment, Runtime } from "../../../core/ports/runtime.js";
import { CRASHED_LOGS_KEPT, lastLines } from "../process/crashed-logs.js";
import { disruptionBudget, minAvailable } from "./disruption-budget.js";
import { KubeApi, type KubeApiOptions } from "./kube-api.js";
import { KEPT_TAIL_BYTES, KEPT_TAIL_LINES, readPodLog, tailBytes } from "./pod-log.js";
import { buildPod, HERITAGE_LABEL, HERITAGE_VALUE, MANAGED_BY_LABEL, validatePodInputs } from "./pod-spec.js";
import { convertPodStatus, podToInstance } from "./pod-status.js";
import { type PodUsage, parseKubeletSummary, parsePodMetricsList } from "./pod-usage.js";
import { PodWatch } from "./pod-watch.js";

export interface KubernetesRuntimeOptions extends KubeApiOptions {
  logger?: Pick<Logger, "info" | "warn" | "error">;
  /** Share of rooms a voluntary disruption (node drain) may take at once; Maestro clamps it to [0.05, 1). */
  disruptionSafetyPercentage?: number;
  /**
   * Where the log tails of crashed rooms are kept once their pods are deleted (Redis when the modules run in separate
   * pods); without it a crashed room's log goes with its pod.
   */
  crashedLogs?: CrashedRoomLogs;
}

/** Read-and-replace rounds of the disruption budget before a 409 Conflict is given up on. */
const MAX_CONFLICT_RETRIES = 30;
/** The annotation that marks one createRoom call on its pod (see createRoom). */
export const CREATION_ANNOTATION = "maestro-creation";
/** Pods per list page (see listInstances). */
const LIST_PAGE_SIZE = 500;
/** Kubelets refresh their CPU figures every ~10 s; asking more often than this only adds load. */
const SUMMARY_TTL_MS = 5_000;
/** How long a deletion waits for a crashed room's log before it deletes the pod anyway. */
const KEEP_LOG_TIMEOUT_MS = 10_000;

/** A namespace or pod name Kubernetes accepts (DNS-1123 label); checked here so the message names the field. */
const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Rooms as pods: one namespace per scheduler, one pod per room (Maestro's Kubernetes runtime). */
export class KubernetesRuntime implements Runtime {
  readonly name = "kubernetes";
  private readonly api: KubeApi;
  private readonly watcher: PodWatch;
  private readonly logger: Pick<Logger, "info" | "warn" | "error">;
  private readonly safety: number;
  private readonly crashedLogs: CrashedRoomLogs | undefined;
  /** Host ports of pods created here that the watch has not shown yet: portsInUse must not miss them. */
  private readonly fresh = new Map<string, { ports: number[]; at: number }>();
  private closed = false;
  /** Kubelet summaries by node, reused for a few seconds: every autoscaled scheduler on a node asks each tick. */
  private readonly summaries = new Map<string, { at: number; pods: Promise<Map<string, PodUsage>> }>();

  constructor(opts: KubernetesRuntimeOptions = {}) {
    this.api = new KubeApi(opts);
    this.logger = opts.logger ?? silentLogger;
    this.watcher = new PodWatch(this.api, this.logger);
    this.safety = Math.min(Math.max(opts.disruptionSafetyPercentage ?? 0.05, 0.05), 0.99);
    this.crashedLogs = opts.crashedLogs;
  }

  async createScheduler(scheduler: Scheduler, opts: CallOptions = {}): Promise<void> {
    this.checkOpen(opts);
    checkName("name", scheduler.name);
    const what = `namespace ${scheduler.name}`;
    try {
      await this.api.call(
        what,
        (c) =>
          this.api.core.createNamespace(
            { body: { metadata: { name: scheduler.name, labels: { [HERITAGE_LABEL]: HERITAGE_VALUE } } } },
            c,
          ),
        opts.signal,
      );
    } catch (err) {
      if (err instanceof MaestroError && err.code === "already_exists") {
        throw new MaestroError("already_exists", `scheduler ${scheduler.name} already exists in Kubernetes`);
      }
      throw err;
    }
    // The runtime watcher keeps the budget in line with the room count: a failure here is repaired on its next pass.
    await this.upsertDisruptionBudget(scheduler.name, 0, opts.signal).catch((err: unknown) => {
      if (opts.signal?.aborted) throw err;
      this.logger.warn({ err, scheduler: scheduler.name }, "cannot create the scheduler's pod disruption budget yet");
    });
  }

  async deleteScheduler(scheduler: Scheduler, opts: CallOptions = {}): Promise<void> {
    this.checkOpen(opts);
    checkName("name", scheduler.name);
    const namespace = scheduler.name;
    // Deleting the pods first makes rooms go at once; the namespace controller would only get to them in its own time.
    await this.ignoreNotFound(
      this.api.call(
        `pods of ${namespace}`,
        (c) =>
          this.api.core.deleteCollectionNamespacedPod(
            { namespace, labelSelector: `${HERITAGE_LABEL}=${HERITAGE_VALUE}` },
            c,
          ),
        opts.signal,
      ),
    );
    try {
      await this.api.call(
        `namespace ${namespace}`,
        (c) => this.api.core.deleteNamespace({ name: namespace }, c),
        opts.signal,
      );
    } catch (err) {
      // 409: the namespace is already being deleted, which is what was asked.
      if (!(err instanceof MaestroError && (err.code === "not_found" || err.code === "already_exists"))) throw err;
    }
    await this.crashedLogs?.deleteScheduler(namespace, opts).catch((err: unknown) => {
      if (opts.signal?.aborted) throw err;
      this.logger.warn({ err, scheduler: namespace }, "cannot forget the scheduler's crashed rooms' logs");
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
    checkName("name", scheduler.name);
    checkPodName(room.id);
    validatePodInputs(scheduler, ports);
    const body = buildPod(scheduler, room, ports, env);
    // Marks this creation: when an attempt lands but its answer is lost (a dropped connection, a timeout) the retry
    // meets 409 AlreadyExists, and the mark tells our own pod from someone else's.
    const creation = randomUUID();
    body.metadata = {
      ...body.metadata,
      annotations: { ...body.metadata?.annotations, [CREATION_ANNOTATION]: creation },
    };
    const key = `${scheduler.name}/${room.id}`;
    this.fresh.set(key, { ports: ports.map((p) => p.hostPort), at: Date.now() });
    let created: V1Pod;
    try {
      created = await this.api.call(
        `pod ${key}`,
        (c) => this.api.core.createNamespacedPod({ namespace: scheduler.name, body }, c),
        opts.signal,
      );
    } catch (err) {
      if (err instanceof MaestroError && err.code === "already_exists") {
        const existing = await this.api
          .call(
            `pod ${key}`,
            (c) => this.api.core.readNamespacedPod({ name: room.id, namespace: scheduler.name }, c),
            opts.signal,
          )
          .catch(() => undefined);
        if (existing?.metadata?.annotations?.[CREATION_ANNOTATION] === creation)
          return podToInstance(existing, undefined);
        this.fresh.delete(key);
        throw new MaestroError("already_exists", `room ${room.id} of scheduler ${scheduler.name} already exists`);
      }
      this.fresh.delete(key);
      if (err instanceof MaestroError && err.code === "not_found") {
        throw new MaestroError("failed_precondition", `namespace ${scheduler.name} does not exist`, { cause: err });
      }
      throw err;
    }
    return podToInstance(created, undefined);
  }

  async deleteRoom(schedulerName: string, roomId: string, reason: string, opts: CallOptions = {}): Promise<void> {
    this.checkOpen(opts);
    const key = `${schedulerName}/${roomId}`;
    // A crashed room's log is the only account of why it crashed, and it goes with the pod. The watch knows which
    // pods are in error without a request; until it has synced, the pod itself is asked.
    const synced = this.watcher.syncProblem() === undefined;
    if (this.crashedLogs && (!synced || this.watcher.instance(schedulerName, roomId)?.status.type === "error")) {
      await this.keepCrashedLog(schedulerName, roomId, opts.signal);
    }
    try {
      await this.api.call(
        `pod ${key}`,
        (c) => this.api.core.deleteNamespacedPod({ name: roomId, namespace: schedulerName }, c),
        opts.signal,
      );
    } catch (err) {
      if (err instanceof MaestroError && err.code === "not_found") {
        throw MaestroError.notFound(`room ${roomId} of scheduler ${schedulerName}`);
      }
      throw err;
    }
    this.fresh.delete(key);
    // The reason is for people reading `kubectl get events`; losing it must not fail the deletion.
    void this.recordDeletion(schedulerName, roomId, reason);
  }

  async listInstances(schedulerName: string, opts: CallOptions = {}): Promise<Instance[]> {
    this.checkOpen(opts);
    if (!dnsLabel.test(schedulerName)) return [];
    // The node cache comes with the watch; without it every pod would cost a node read.
    await this.watcher.start();
    const instances: Instance[] = [];
    let next: string | undefined;
    do {
      // In pages: one answer of 10,000 pods held the event loop (and every lease renewal) for seconds.
      const page = await this.api.call(
        `pods of ${schedulerName}`,
        (c) =>
          this.api.core.listNamespacedPod(
            {
              namespace: schedulerName,
              labelSelector: `${HERITAGE_LABEL}=${HERITAGE_VALUE}`,
              limit: LIST_PAGE_SIZE,
              _continue: next,
            },
            c,
          ),
        opts.signal,
      );
      for (const pod of page.items) instances.push(podToInstance(pod, await this.watcher.node(pod)));
      next = page.metadata?._continue || undefined;
      await new Promise((resolve) => setImmediate(resolve));
    } while (next);
    return instances;
  }

  /**
   * Each room pod's CPU and memory from the kubelet of its node (summary API through the API server's node proxy),
   * falling back to metrics.k8s.io where the node proxy is not allowed; requests come from the pods' own specs.
   */
  async roomUsage(scheduler: Scheduler, opts: CallOptions = {}): Promise<RoomUsage[]> {
    this.checkOpen(opts);
    if (!dnsLabel.test(scheduler.name)) return [];
    const namespace = scheduler.name;
    // From the watch: listing every pod of the scheduler for each dashboard sample blocked the server for seconds.
    const pods = await this.watcher.runningPods(namespace);
    const nodes = [...new Set(pods.map((p) => p.node))];
    const usage = new Map<string, PodUsage>();
    let failures = 0;
    for (const node of nodes) {
      try {
        for (const [k, v] of await this.nodeSummary(node, opts.signal)) usage.set(k, v);
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        failures++;
      }
    }
    if (failures > 0 && nodes.length > 0) {
      // The node proxy needs `nodes/proxy` RBAC; metrics-server only needs metrics.k8s.io, so try that instead.
      for (const [k, v] of await this.podMetrics(namespace, opts.signal).catch(() => new Map<string, PodUsage>())) {
        if (!usage.has(k)) usage.set(k, v);
      }
    }
    const now = new Date();
    return pods.flatMap((pod) => {
      const u = usage.get(`${namespace}/${pod.name}`);
      if (!u) return [];
      return [
        {
          roomId: pod.name,
          cpuMillicores: u.cpuMillicores,
          memoryBytes: u.memoryBytes,
          cpuRequestMillicores: pod.cpuRequestMillicores,
          memoryRequestBytes: pod.memoryRequestBytes,
          sampledAt: now,
        },
      ];
    });
  }

  private nodeSummary(node: string, signal?: AbortSignal): Promise<Map<string, PodUsage>> {
    const cached = this.summaries.get(node);
    if (cached && Date.now() - cached.at < SUMMARY_TTL_MS) return cached.pods;
    // One attempt, and a failure is kept as long as a summary: an unreachable kubelet must not hold every
    // health-controller run through the API's retries (the metrics.k8s.io fallback answers meanwhile).
    const pods = this.api
      .call(
        `kubelet summary of node ${node}`,
        (c) => this.api.core.connectGetNodeProxyWithPath({ name: node, path: "stats/summary" }, c),
        signal,
        { attempts: 1 },
      )
      .then((body) => parseKubeletSummary(typeof body === "string" ? JSON.parse(body) : body));
    pods.catch(() => {
      // A caller that gave up is no news about the kubelet.
      if (signal?.aborted) this.summaries.delete(node);
    });
    this.summaries.set(node, { at: Date.now(), pods });
    return pods;
  }

  private async podMetrics(namespace: string, signal?: AbortSignal): Promise<Map<string, PodUsage>> {
    const list = await this.api.call(
      `pod metrics of ${namespace}`,
      (c) =>
        this.api.custom.listNamespacedCustomObject(
          { group: "metrics.k8s.io", version: "v1beta1", namespace, plural: "pods" },
          c,
        ),
      signal,
    );
    return parsePodMetricsList(list);
  }

  /**
   * The end of the room container's log while its pod exists (the previous container's after a restart), else the
   * tail kept when the crashed room's pod was deleted.
   */
  async roomLog(
    schedulerName: string,
    roomId: string,
    tailLines: number,
    opts: CallOptions = {},
  ): Promise<{ log: string; crashed: boolean }> {
    this.checkOpen(opts);
    const notFound = () =>
      MaestroError.notFound(`log of room ${roomId} (rooms that crashed keep theirs only for the last few)`);
    if (!dnsLabel.test(schedulerName) || !dnsSubdomain.test(roomId)) throw notFound();
    let pod: V1Pod | undefined;
    try {
      pod = await this.api.call(
        `pod ${schedulerName}/${roomId}`,
        (c) => this.api.core.readNamespacedPod({ name: roomId, namespace: schedulerName }, c),
        opts.signal,
      );
    } catch (err) {
      if (!(err instanceof MaestroError && err.code === "not_found")) throw err;
    }
    if (pod) {
      const { log, previous } = await readPodLog(this.api, pod, tailLines, opts.signal);
      return { log: lastLines(log, tailLines), crashed: previous };
    }
    const kept = await this.crashedLogs?.get(schedulerName, roomId, opts);
    if (kept === undefined) throw notFound();
    return { log: lastLines(kept, tailLines), crashed: true };
  }

  /** Reads a crashed room's log tail into the kept ones; bounded in time, and never a reason not to delete the pod. */
  private async keepCrashedLog(namespace: string, roomId: string, signal?: AbortSignal): Promise<void> {
    const store = this.crashedLogs;
    if (!store) return;
    const timeout = AbortSignal.timeout(KEEP_LOG_TIMEOUT_MS);
    const bounded = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      const pod = await this.api.call(
        `pod ${namespace}/${roomId}`,
        (c) => this.api.core.readNamespacedPod({ name: roomId, namespace }, c),
        bounded,
      );
      // A container that never ran (its image could not be pulled) has no log to keep.
      const ran = pod.status?.containerStatuses?.some((c) => c.state?.terminated || c.lastState?.terminated);
      if (!ran || convertPodStatus(pod).type !== "error") return;
      const { log } = await readPodLog(this.api, pod, KEPT_TAIL_LINES, bounded);
      await store.keep(namespace, roomId, tailBytes(log, KEPT_TAIL_BYTES), new Date(), CRASHED_LOGS_KEPT, {
        signal: bounded,
      });
    } catch (err) {
      if (signal?.aborted) throw MaestroError.from(signal.reason, "canceled");
      // A pod already gone has nothing to keep; deleting it answers not_found as before.
      if (err instanceof MaestroError && err.code === "not_found") return;
      this.logger.warn({ err, room: roomId }, "cannot keep the crashed room's log");
    }
  }

  watch(schedulerName: string, opts: Required<CallOptions>): AsyncIterable<InstanceEvent> {
    return this.watcher.watch(schedulerName, opts.signal);
  }

  async portsInUse(opts: CallOptions = {}): Promise<Set<number>> {
    this.checkOpen(opts);
    const ports = await this.watcher.hostPorts();
    const now = Date.now();
    for (const [key, entry] of this.fresh) {
      const [namespace = "", name = ""] = key.split("/");
      // Once the watch has the pod, it reports the ports; a pod it never showed in a minute is not coming.
      if (this.watcher.knows(namespace, name) || now - entry.at > 60_000) this.fresh.delete(key);
      else for (const p of entry.ports) ports.add(p);
    }
    return ports;
  }

  /**
   * Keeps the scheduler's PodDisruptionBudget in line with its room count, so a node drain cannot take more than the
   * safety share of its rooms at once (Maestro's MitigateDisruption).
   */
  async mitigateDisruption(schedulerName: string, rooms: number, opts: CallOptions = {}): Promise<void> {
    this.checkOpen(opts);
    await this.upsertDisruptionBudget(schedulerName, minAvailable(rooms, this.safety), opts.signal);
  }

  /** The API server answers, and the pod and node informers have listed (rooms are seen as they are). */
  async ready(opts: CallOptions = {}): Promise<void> {
    this.checkOpen(opts);
    await this.api.call("API server version", (c) => this.api.version.getCode(c), opts.signal);
    // Readiness is what starts the informers in a module that has not needed them yet; it does not wait for them.
    void this.watcher.start().catch(() => undefined);
    const problem = this.watcher.syncProblem();
    if (problem) throw new MaestroError("unavailable", problem);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.watcher.close();
    this.api.close();
  }

  private async upsertDisruptionBudget(namespace: string, min: number, signal?: AbortSignal): Promise<void> {
    const what = `pod disruption budget of ${namespace}`;
    const body = disruptionBudget(namespace, min, MANAGED_BY_LABEL);
    // The disruption controller writes the budget's status and other replicas its spec, each bumping its
    // resourceVersion: a replace carrying the version read a moment ago can meet 409 Conflict. Read it again and retry.
    for (let attempt = 1; ; attempt++) {
      let current: Awaited<ReturnType<typeof this.api.policy.readNamespacedPodDisruptionBudget>> | undefined;
      try {
        current = await this.api.call(
          what,
          (c) => this.api.policy.readNamespacedPodDisruptionBudget({ name: namespace, namespace }, c),
          signal,
        );
      } catch (err) {
        if (!(err instanceof MaestroError && err.code === "not_found")) throw err;
      }
      if (!current) {
        await this.api
          .call(what, (c) => this.api.policy.createNamespacedPodDisruptionBudget({ namespace, body }, c), signal)
          .catch((err: unknown) => {
            // Another replica created it meanwhile: its next pass sets the count.
            if (!(err instanceof MaestroError && err.code === "already_exists")) throw err;
          });
        return;
      }
      if (current.spec?.minAvailable === min) return;
      const resourceVersion = current.metadata?.resourceVersion;
      try {
        await this.api.call(
          what,
          (c) =>
            this.api.policy.replaceNamespacedPodDisruptionBudget(
              { name: namespace, namespace, body: { ...body, metadata: { ...body.metadata, resourceVersion } } },
              c,
            ),
          signal,
        );
        return;
      } catch (err) {
        const conflict = err instanceof MaestroError && err.code === "already_exists";
        if (!conflict || attempt >= MAX_CONFLICT_RETRIES) throw err;
      }
      // A little jitter, so writers that just collided do not collide again in lockstep.
      await abortableSleep(5 + Math.random() * 20 * Math.min(attempt, 5), signal);
    }
  }

  private async recordDeletion(namespace: string, roomId: string, reason: string): Promise<void> {
    const now = new Date();
    try {
      await this.api.call(`event of ${namespace}/${roomId}`, (c) =>
        this.api.core.createNamespacedEvent(
          {
            namespace,
            body: {
              metadata: { generateName: `${roomId}.`, namespace },
              involvedObject: { kind: "Pod", name: roomId, namespace, apiVersion: "v1" },
              type: "Normal",
              reason: "GameRoomDeleted",
              message: reason,
              source: { component: "maestro" },
              firstTimestamp: now,
              lastTimestamp: now,
              count: 1,
            },
          },
          c,
        ),
      );
    } catch (err) {
      this.logger.warn({ err, room: roomId }, "cannot record the room's deletion event");
    }
  }

  private async ignoreNotFound(work: Promise<unknown>): Promise<void> {
    try {
      await work;
    } catch (err) {
      if (!(err instanceof MaestroError && err.code === "not_found")) throw err;
    }
  }

  private checkOpen(opts: CallOptions): void {
    if (opts.signal?.aborted) throw MaestroError.from(opts.signal.reason, "canceled");
    if (this.closed) throw new MaestroError("unavailable", "the Kubernetes runtime is closed");
  }
}

/** Pod names are DNS subdomains (room ids are `<scheduler>-<suffix>`, longer than a label may be). */
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function checkPodName(id: string): void {
  if (id.length > 253 || !dnsSubdomain.test(id)) {
    throw MaestroError.invalid([
      { field: "room id", message: `${JSON.stringify(id)} must be a DNS-1123 subdomain (a-z, 0-9, '-', '.')` },
    ]);
  }
}

function checkName(field: string, name: string): void {
  if (name.length > 63 || !dnsLabel.test(name)) {
    throw MaestroError.invalid([
      { field, message: `${JSON.stringify(name)} must be a DNS-1123 label (a-z, 0-9, '-'; at most 63 characters)` },
    ]);
  }
}
