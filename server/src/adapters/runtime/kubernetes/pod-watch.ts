import { type Informer, makeInformer, type ObjectCache, type V1Node, type V1Pod } from "@kubernetes/client-node";
import type { Instance, InstanceEvent } from "../../../core/entities/game-room.js";
import { type Logger, silentLogger } from "../../../core/ports/logger.js";
import { InstanceEventHub } from "../process/instance-events.js";
import type { KubeApi } from "./kube-api.js";
import { HERITAGE_LABEL, HERITAGE_VALUE } from "./pod-spec.js";
import { podToInstance } from "./pod-status.js";

const RESTART_DELAY_MS = 1_000;

type Watched<T extends { metadata?: object }> = Informer<T> & ObjectCache<T>;

/**
 * One informer over every Maestro pod of the cluster (label `heritage=maestro`) and one over nodes. A single watch
 * serves every scheduler: portsInUse needs the view across namespaces anyway, and it costs the API server one watch
 * instead of one per scheduler. Events go through one queue so each watcher sees a pod's changes in order, and the
 * instances map is updated before an event is emitted, so a snapshot taken with a subscription never misses a change.
 */
export class PodWatch {
  private readonly hub = new InstanceEventHub();
  /** namespace → pod name → the instance last emitted. */
  private readonly instances = new Map<string, Map<string, Instance>>();
  private pods?: Watched<V1Pod>;
  private nodes?: Watched<V1Node>;
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
    const selector = `${HERITAGE_LABEL}=${HERITAGE_VALUE}`;
    const nodes = makeInformer<V1Node>(this.api.kc, "/api/v1/nodes", () =>
      this.listed(
        "nodes",
        this.api.call("nodes", (c) => this.api.core.listNode({}, c)),
      ),
    );
    this.nodes = nodes;
    this.keepAlive("nodes", nodes);
    await nodes.start();

    const pods = makeInformer<V1Pod>(
      this.api.kc,
      "/api/v1/pods",
      () =>
        this.listed(
          "pods",
          this.api.call("pods", (c) => this.api.core.listPodForAllNamespaces({ labelSelector: selector }, c)),
        ),
      selector,
    );
    this.pods = pods;
    pods.on("add", (pod) => this.enqueue(pod, "added"));
    pods.on("update", (pod) => this.enqueue(pod, "updated"));
    pods.on("delete", (pod) => this.enqueue(pod, "deleted"));
    this.keepAlive("pods", pods);
    await pods.start();
    await this.queue;
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
  private keepAlive(what: "nodes" | "pods", informer: Informer<V1Pod> | Informer<V1Node>): void {
    informer.on("error", (err: unknown) => {
      this.unsynced.add(what);
      if (this.closed) return;
      this.logger.warn({ err, informer: what }, "Kubernetes watch failed; restarting it");
      setTimeout(() => {
        if (!this.closed) informer.start().catch(() => undefined);
      }, RESTART_DELAY_MS).unref();
    });
  }

  private enqueue(pod: V1Pod, type: InstanceEvent["type"]): void {
    this.queue = this.queue
      .then(() => this.apply(pod, type))
      .catch((err: unknown) => {
        this.logger.error({ err, pod: pod.metadata?.name }, "cannot apply a pod event");
      });
  }

  private async apply(pod: V1Pod, type: InstanceEvent["type"]): Promise<void> {
    const namespace = pod.metadata?.namespace ?? "";
    const name = pod.metadata?.name ?? "";
    const known = this.instances.get(namespace) ?? new Map<string, Instance>();
    if (type === "deleted") {
      const last = known.get(name);
      known.delete(name);
      if (known.size === 0) this.instances.delete(namespace);
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
    const first = !known.has(name);
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

  /** Host ports of every Maestro pod the watch knows. */
  async hostPorts(): Promise<Set<number>> {
    await this.start();
    const ports = new Set<number>();
    for (const pods of this.instances.values())
      for (const instance of pods.values()) for (const p of instance.address?.ports ?? []) ports.add(p.port);
    return ports;
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
    await Promise.all([this.pods?.stop(), this.nodes?.stop()].map((p) => p?.catch(() => undefined)));
    this.hub.close();
  }
}
