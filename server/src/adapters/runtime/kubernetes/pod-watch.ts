import {
  type Informer,
  makeInformer,
  type ObjectCache,
  type V1Node,
  type V1Pod,
  type V1PodList,
  Watch,
} from "@kubernetes/client-node";
import type { Instance, InstanceEvent } from "../../../core/entities/game-room.js";
import { type Logger, silentLogger } from "../../../core/ports/logger.js";
import { InstanceEventHub } from "../process/instance-events.js";
import type { KubeApi } from "./kube-api.js";
import { HERITAGE_LABEL, HERITAGE_VALUE } from "./pod-spec.js";
import { podToInstance } from "./pod-status.js";
import { podRequests } from "./pod-usage.js";

/** What roomUsage needs of a pod besides its instance, kept from the watch so that it lists nothing. */
export interface PodPlacement {
  name: string;
  node: string;
  running: boolean;
  cpuRequestMillicores: number;
  memoryRequestBytes: number;
}

const RESTART_DELAY_MS = 1_000;
/** Pods per list page: a relist of 10,000 pods in one answer held the event loop (and the operation leases) for seconds. */
const LIST_PAGE_SIZE = 500;

type Watched<T extends { metadata?: object }> = Informer<T> & ObjectCache<T>;

/**
 * One list-and-watch over every Maestro pod of the cluster (label `heritage=maestro`) and an informer over nodes. A
 * single watch serves every scheduler: portsInUse needs the view across namespaces anyway, and it costs the API server
 * one watch instead of one per scheduler. Of each pod only the instance it maps to is kept (an informer's cache would
 * hold every whole pod: hundreds of MiB at 10,000 rooms); pods are listed in pages. Events go through one queue so
 * each watcher sees a pod's changes in order, and the instances map is updated before an event is emitted, so a
 * snapshot taken with a subscription never misses a change.
 */
export class PodWatch {
  private readonly hub = new InstanceEventHub();
  /** namespace → pod name → the instance last emitted. */
  private readonly instances = new Map<string, Map<string, Instance>>();
  /**
   * Host port → how many known pods hold it, kept with `instances`: every room allocation asks for the ports in use,
   * and walking 10,000 pods for each of 10,000 creations was the worker's largest CPU cost.
   */
  private readonly portHolders = new Map<number, number>();
  /** namespace/name → where the pod runs and what it requested. */
  private readonly placements = new Map<string, PodPlacement>();
  private nodes?: Watched<V1Node>;
  /** The pod watch request running now, if any. */
  private podWatch?: AbortController;
  /** Where the pod watch resumes; empty = list again first. */
  private podsVersion = "";
  private started?: Promise<void>;
  /** Informers whose last list failed or whose watch broke: until they list again, their view may be stale. */
  private readonly unsynced = new Set<"nodes" | "pods">(["nodes", "pods"]);
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly api: KubeApi,
    private readonly logger: Pick<Logger, "info" | "warn" | "error"> = silentLogger,
  ) {}

  start(): Promise<void> {
    this.started ??= this.startInformers();
    return this.started;
  }

  private async startInformers(): Promise<void> {
    const nodes = makeInformer<V1Node>(this.api.kc, "/api/v1/nodes", () =>
      this.listed(
        "nodes",
        this.api.call("nodes", (c) => this.api.core.listNode({}, c)),
      ),
    );
    this.nodes = nodes;
    this.keepAlive("nodes", nodes);
    await nodes.start();

    await this.listAndWatchPods();
    await this.queue;
  }

  /**
   * Lists the pods (in pages) unless the watch can resume, then watches from there. Pods the list no longer holds are
   * reported deleted. A failure marks the view unsynced and tries again a second later, until the watch closes.
   */
  private async listAndWatchPods(): Promise<void> {
    if (this.closed) return;
    const selector = `${HERITAGE_LABEL}=${HERITAGE_VALUE}`;
    try {
      if (!this.podsVersion) {
        const seen = new Set<string>();
        let next: string | undefined;
        let version = "";
        do {
          const page: V1PodList = await this.api.call("pods", (c) =>
            this.api.core.listPodForAllNamespaces(
              { labelSelector: selector, limit: LIST_PAGE_SIZE, _continue: next },
              c,
            ),
          );
          for (const pod of page.items) {
            seen.add(`${pod.metadata?.namespace}/${pod.metadata?.name}`);
            this.enqueue(pod, "updated");
          }
          next = page.metadata?._continue || undefined;
          version = page.metadata?.resourceVersion ?? "";
          // Let timers (lease renewals) and requests in between pages.
          await new Promise((resolve) => setImmediate(resolve));
        } while (next);
        for (const [namespace, pods] of this.instances) {
          for (const [name, last] of pods)
            if (!seen.has(`${namespace}/${name}`)) this.enqueueGone(namespace, name, last);
        }
        this.podsVersion = version;
      }
      if (this.closed) return;
      this.unsynced.delete("pods");
      this.podWatch = await new Watch(this.api.kc).watch(
        "/api/v1/pods",
        { labelSelector: selector, resourceVersion: this.podsVersion, allowWatchBookmarks: true },
        (type: string, pod: V1Pod & { code?: number }) => this.onPodEvent(type, pod),
        (err: unknown) => this.podWatchEnded(err),
      );
    } catch (err) {
      this.podWatchEnded(err);
    }
  }

  private onPodEvent(type: string, pod: V1Pod & { code?: number }): void {
    const version = pod.metadata?.resourceVersion;
    if (type === "ERROR") {
      // 410 Gone: the version to resume from is too old; list again when the watch ends.
      if (pod.code === 410) this.podsVersion = "";
      return;
    }
    if (version) this.podsVersion = version;
    if (type === "ADDED" || type === "MODIFIED") this.enqueue(pod, "updated");
    else if (type === "DELETED") this.enqueue(pod, "deleted");
  }

  /** The API server ends watches every few minutes (resume from the last version), or a failure ended it (list again). */
  private podWatchEnded(err: unknown): void {
    this.podWatch = undefined;
    if (this.closed) return;
    if (err) {
      this.unsynced.add("pods");
      this.podsVersion = "";
      this.logger.warn({ err, informer: "pods" }, "Kubernetes watch failed; restarting it");
    }
    setTimeout(
      () => {
        void this.listAndWatchPods();
      },
      err ? RESTART_DELAY_MS : 50,
    ).unref();
  }

  /** An informer is in sync once its list succeeded, until its next error. */
  private async listed<T>(what: "nodes" | "pods", list: Promise<T>): Promise<T> {
    const result = await list;
    this.unsynced.delete(what);
    return result;
  }

  /** Why the watch cannot be trusted now (an informer never listed, or broke and has not listed again), if it cannot. */
  syncProblem(): string | undefined {
    if (this.closed) return "the pod watch is closed";
    if (this.unsynced.size === 0) return undefined;
    return `the ${[...this.unsynced].join(" and ")} informer${this.unsynced.size > 1 ? "s have" : " has"} not synced`;
  }

  /** The informer stops on any error but a 410; start it again until the runtime closes. */
  private keepAlive(what: "nodes", informer: Informer<V1Node>): void {
    informer.on("error", (err: unknown) => {
      this.unsynced.add(what);
      if (this.closed) return;
      this.logger.warn({ err, informer: what }, "Kubernetes watch failed; restarting it");
      setTimeout(() => {
        if (!this.closed) informer.start().catch(() => undefined);
      }, RESTART_DELAY_MS).unref();
    });
  }

  private enqueue(pod: V1Pod, type: "updated" | "deleted"): void {
    this.queue = this.queue
      .then(() => this.apply(pod, type))
      .catch((err: unknown) => {
        this.logger.error({ err, pod: pod.metadata?.name }, "cannot apply a pod event");
      });
  }

  /** A pod the relist no longer holds: gone while the watch was down. */
  private enqueueGone(namespace: string, name: string, last: Instance): void {
    this.queue = this.queue.then(() => {
      if (this.instances.get(namespace)?.get(name) !== last) return;
      this.forget(namespace, name);
      if (last.status.type !== "terminating") {
        this.hub.emit(namespace, {
          type: "updated",
          instance: { ...last, status: { type: "terminating", description: "" } },
        });
      }
      this.hub.emit(namespace, { type: "deleted", instance: last });
    });
  }

  private forget(namespace: string, name: string): void {
    this.placements.delete(`${namespace}/${name}`);
    const known = this.instances.get(namespace);
    if (!known) return;
    this.countPorts(known.get(name), -1);
    known.delete(name);
    if (known.size === 0) this.instances.delete(namespace);
  }

  private async apply(pod: V1Pod, type: "updated" | "deleted"): Promise<void> {
    const namespace = pod.metadata?.namespace ?? "";
    const name = pod.metadata?.name ?? "";
    const known = this.instances.get(namespace) ?? new Map<string, Instance>();
    if (type === "deleted") {
      const last = known.get(name);
      this.forget(namespace, name);
      const instance = podToInstance(pod, await this.node(pod));
      // Watchers expect a room to pass through terminating before it is gone (a pod force-deleted at once never does).
      if (last && last.status.type !== "terminating") {
        this.hub.emit(namespace, {
          type: "updated",
          instance: { ...instance, status: { type: "terminating", description: "" } },
        });
      }
      this.hub.emit(namespace, { type: "deleted", instance });
      return;
    }
    const instance = podToInstance(pod, await this.node(pod));
    const last = known.get(name);
    // A relist (or a watch resumed after it) repeats pods unchanged: nothing to tell anyone.
    if (last && last.resourceVersion !== undefined && last.resourceVersion === instance.resourceVersion) return;
    const first = last === undefined;
    const requests = podRequests(pod);
    this.placements.set(`${namespace}/${name}`, {
      name,
      node: pod.spec?.nodeName ?? "",
      running: pod.status?.phase === "Running" && !pod.metadata?.deletionTimestamp,
      cpuRequestMillicores: requests.cpuMillicores,
      memoryRequestBytes: requests.memoryBytes,
    });
    this.countPorts(last, -1);
    this.countPorts(instance, 1);
    known.set(name, instance);
    this.instances.set(namespace, known);
    this.hub.emit(namespace, { type: first ? "added" : "updated", instance });
  }

  /** The pod's node from the cache, else from the API (a node the informer has not shown yet). */
  async node(pod: V1Pod): Promise<V1Node | undefined> {
    const name = pod.spec?.nodeName;
    if (!name) return undefined;
    const cached = this.nodes?.get(name);
    if (cached) return cached;
    try {
      return await this.api.call(`node ${name}`, (c) => this.api.core.readNode({ name }, c));
    } catch (err) {
      this.logger.warn({ err, node: name }, "cannot read a room's node");
      return undefined;
    }
  }

  /** Instance events of one namespace, starting with an `added` event for every pod in it. */
  async *watch(namespace: string, signal: AbortSignal): AsyncGenerator<InstanceEvent> {
    if (signal.aborted) return;
    await this.start();
    await this.queue;
    const initial = [...(this.instances.get(namespace)?.values() ?? [])].map(
      (instance): InstanceEvent => ({ type: "added", instance }),
    );
    yield* this.hub.subscribe(namespace, initial, signal);
  }

  private countPorts(instance: Instance | undefined, delta: 1 | -1): void {
    for (const { port } of instance?.address?.ports ?? []) {
      const holders = (this.portHolders.get(port) ?? 0) + delta;
      if (holders > 0) this.portHolders.set(port, holders);
      else this.portHolders.delete(port);
    }
  }

  /** Host ports of every Maestro pod the watch knows. */
  async hostPorts(): Promise<Set<number>> {
    await this.start();
    return new Set(this.portHolders.keys());
  }

  /** The namespace's pods that run on a node now, as the watch sees them. */
  async runningPods(namespace: string): Promise<PodPlacement[]> {
    await this.start();
    const pods: PodPlacement[] = [];
    for (const name of this.instances.get(namespace)?.keys() ?? []) {
      const placement = this.placements.get(`${namespace}/${name}`);
      if (placement?.running && placement.node) pods.push(placement);
    }
    return pods;
  }

  /** The pod as the watch last saw it, if it has seen it and not its deletion. */
  instance(namespace: string, name: string): Instance | undefined {
    return this.instances.get(namespace)?.get(name);
  }

  /** Whether the watch has seen this pod (created or not yet deleted). */
  knows(namespace: string, name: string): boolean {
    return this.instances.get(namespace)?.has(name) ?? false;
  }

  /** Number of Maestro pods per namespace, as the watch sees them. */
  count(namespace: string): number {
    return this.instances.get(namespace)?.size ?? 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.podWatch?.abort();
    await this.nodes?.stop().catch(() => undefined);
    this.hub.close();
  }
}
