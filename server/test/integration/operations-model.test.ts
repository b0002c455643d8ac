import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  MemoryCancelSignals,
  MemoryLeaseStorage,
  MemoryOperationQueue,
  MemoryOperationStorage,
} from "../../src/adapters/storage/memory/index.js";
import {
  createRedisClient,
  RedisCancelSignals,
  type RedisClient,
  RedisLeaseStorage,
  RedisOperationQueue,
  RedisOperationStorage,
  waitUntilReady,
} from "../../src/adapters/storage/redis/index.js";
import { finalOperationStatuses, type OperationStatusName } from "../../src/core/entities/operation.js";
import { isMaestroError } from "../../src/core/errors.js";
import { type AnyOperationDefinition, OperationRegistry } from "../../src/core/operations/definition.js";
import type { CallOptions } from "../../src/core/ports/call-options.js";
import type { CancelSignals } from "../../src/core/ports/cancel-signals.js";
import { systemClock } from "../../src/core/ports/clock.js";
import { silentLogger } from "../../src/core/ports/logger.js";
import type {
  LeaseStorage,
  OperationQueue,
  OperationStorage,
  OperationWriteGuard,
} from "../../src/core/ports/operation-storage.js";
import { OperationCanceled, OperationManager, RunningOperations } from "../../src/core/services/operation-manager.js";
import { recoverAbandonedOperations } from "../../src/core/services/operation-recovery.js";
import { OperationWorker } from "../../src/core/services/operation-worker.js";
import { uniqueScheduler } from "../support/contract-helpers.js";
import { deferred, untilAborted } from "../support/core-harness.js";
import { startRedis, type TestRedis } from "../support/redis.js";

/**
 * Model-based concurrency test of the operation engine: two replicas share one scheduler's operations (real Redis, and
 * the memory adapters), and fast-check drives random interleavings of enqueue, worker pick-up, cancel (pending and in
 * progress, from either replica), operations finishing, lease renewals failing (a stalled replica), lease expiry,
 * replica takeover (recovery) and worker stops. Every storage write is recorded; at the end, with everything healed
 * and drained, the invariants are checked:
 *   - every operation ends in exactly one final state, and one canceled while pending never ran;
 *   - no replica wrote (status or history) for an operation after a newer lease on it had been granted;
 *   - a cancel either succeeded — and then the operation ended canceled, or was taken from a replica that lost its
 *     lease — or failed with conflict or unavailable.
 * Bounded: few commands, short leases, a handful of runs per backend.
 */

const LEASE_TTL_MS = 150;
const RENEW_MS = 40;
const RUNS = 20;

interface Backend {
  operations: OperationStorage;
  leases: LeaseStorage;
  queue: OperationQueue;
  cancels: CancelSignals;
}

/** What the replicas did to storage, in the order the calls were issued and came back. */
class Journal {
  private seq = 0;
  readonly grants: { op: string; token: number; at: number }[] = [];
  readonly writes: {
    op: string;
    replica: string;
    status?: OperationStatusName;
    expected?: OperationStatusName | undefined;
    fence?: number | undefined;
    issued: number;
  }[] = [];
  readonly cancels: { op: string; outcome: "ok" | "conflict" | "unavailable" | string }[] = [];
  readonly executed = new Set<string>();
  readonly recovered = new Set<string>();

  tick(): number {
    return this.seq++;
  }
}

/** The shared storage as one replica sees it: its writes and grants journaled, its renewals held while stalled. */
function replicaView(backend: Backend, journal: Journal, name: string, stalled: () => boolean) {
  const operations = new Proxy(backend.operations, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop === "updateStatus") {
        return async (s: string, id: string, status: OperationStatusName, opts?: OperationWriteGuard) => {
          const issued = journal.tick();
          await target.updateStatus(s, id, status, opts);
          journal.writes.push({ op: id, replica: name, status, expected: opts?.expected, fence: opts?.fence, issued });
        };
      }
      if (prop === "appendHistory") {
        return async (s: string, id: string, event: never, opts?: CallOptions & { fence?: number }) => {
          const issued = journal.tick();
          await target.appendHistory(s, id, event, opts);
          if (opts?.fence !== undefined) journal.writes.push({ op: id, replica: name, fence: opts.fence, issued });
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const leases = new Proxy(backend.leases, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop === "grantLease") {
        return async (...args: Parameters<LeaseStorage["grantLease"]>) => {
          const lease = await target.grantLease(...args);
          journal.grants.push({ op: args[1], token: lease.token, at: journal.tick() });
          return lease;
        };
      }
      if (prop === "renewLease") {
        return async (...args: Parameters<LeaseStorage["renewLease"]>) => {
          // A paused replica (long GC, frozen VM): its renewal does not get out until it resumes, so it cannot tell
          // that its lease lapsed meanwhile and goes on working — and writing — as if it still held it.
          while (stalled()) await sleep(10);
          return target.renewLease(...args);
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { operations, leases };
}

class Replica {
  stalled = false;
  readonly running = new RunningOperations();
  readonly manager: OperationManager;
  readonly operations: OperationStorage;
  readonly leases: LeaseStorage;
  private worker?: { stop: AbortController; done: Promise<void> };
  private readonly listening = new AbortController();

  constructor(
    readonly name: string,
    readonly schedulerName: string,
    private readonly backend: Backend,
    private readonly registry: OperationRegistry,
    private readonly journal: Journal,
  ) {
    ({ operations: this.operations, leases: this.leases } = replicaView(backend, journal, name, () => this.stalled));
    this.manager = new OperationManager(
      {
        operations: this.operations,
        queue: backend.queue,
        leases: this.leases,
        registry,
        clock: systemClock,
        cancelSignals: backend.cancels,
        cancelAckTimeoutMs: 200,
      },
      this.running,
    );
  }

  async listen(): Promise<void> {
    await this.backend.cancels.subscribe(
      ({ schedulerName, operationId }) =>
        schedulerName === this.schedulerName &&
        this.running.abort(operationId, new OperationCanceled("operation canceled by the user")),
      { signal: this.listening.signal },
    );
  }

  get working(): boolean {
    return this.worker !== undefined;
  }

  startWorker(): void {
    if (this.worker) return;
    const worker = new OperationWorker(this.schedulerName, {
      operations: this.operations,
      queue: this.backend.queue,
      leases: this.leases,
      registry: this.registry,
      running: this.running,
      clock: systemClock,
      logger: silentLogger,
      leaseTtlMs: LEASE_TTL_MS,
      leaseRenewIntervalMs: RENEW_MS,
      owner: this.name,
    });
    const stop = new AbortController();
    this.worker = { stop, done: worker.run(stop.signal) };
  }

  async stopWorker(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    worker?.stop.abort();
    await worker?.done;
  }

  async recover(): Promise<void> {
    const { requeued, failed } = await recoverAbandonedOperations(
      this.schedulerName,
      {
        operations: this.operations,
        queue: this.backend.queue,
        leases: this.leases,
        registry: this.registry,
        clock: systemClock,
        logger: silentLogger,
        owner: this.name,
        leaseTtlMs: LEASE_TTL_MS,
      },
      new AbortController().signal,
    );
    for (const id of [...requeued, ...failed]) this.journal.recovered.add(id);
  }

  async close(): Promise<void> {
    await this.stopWorker();
    this.listening.abort();
  }
}

/** One run's world: two replicas, the operations enqueued so far and the gates that let them finish. */
class World {
  readonly journal = new Journal();
  readonly schedulerName = uniqueScheduler();
  readonly ids: string[] = [];
  readonly gates = new Map<string, () => void>();
  readonly replicas: [Replica, Replica];
  readonly registry: OperationRegistry;

  constructor(backend: Backend) {
    const definition: AnyOperationDefinition = {
      name: "hold",
      parseInput: (input) => input ?? {},
      execute: async (ctx) => {
        this.journal.executed.add(ctx.operation.id);
        const gate = deferred();
        this.gates.set(ctx.operation.id, gate.resolve);
        await Promise.race([gate.promise, untilAborted(ctx.signal)]);
      },
    };
    this.registry = new OperationRegistry([definition]);
    this.replicas = [
      new Replica("replica-a", this.schedulerName, backend, this.registry, this.journal),
      new Replica("replica-b", this.schedulerName, backend, this.registry, this.journal),
    ];
  }

  async cancel(replica: number, index: number): Promise<void> {
    const id = this.ids[index % this.ids.length];
    if (id === undefined) return;
    const outcome = await (this.replicas[replica] as Replica).manager.cancel(this.schedulerName, id).then(
      () => "ok",
      (err: unknown) => (isMaestroError(err) ? err.code : String(err)),
    );
    this.journal.cancels.push({ op: id, outcome });
  }

  /** Heals and drains: every replica works and renews, every operation may finish, recovery runs until all ended. */
  async settle(): Promise<Map<string, OperationStatusName>> {
    for (const r of this.replicas) {
      r.stalled = false;
      r.startWorker();
    }
    const final = new Map<string, OperationStatusName>();
    const deadline = Date.now() + 15_000;
    while (final.size < this.ids.length) {
      if (Date.now() > deadline) throw new Error(`operations did not end: ${JSON.stringify([...final])}`);
      for (const open of this.gates.values()) open();
      await this.replicas[0].recover();
      for (const id of this.ids) {
        const op = await this.replicas[0].operations.getOperation(this.schedulerName, id);
        if (op && finalOperationStatuses.includes(op.status)) final.set(id, op.status);
      }
      await sleep(LEASE_TTL_MS / 3);
    }
    for (const r of this.replicas) await r.close();
    return final;
  }
}

type Model = { enqueued: number };
type Cmd = fc.AsyncCommand<Model, World>;

const command = (name: string, run: (w: World) => Promise<void>, check: (m: Model) => boolean = () => true): Cmd => ({
  check,
  async run(m, w) {
    if (name === "enqueue") m.enqueued++;
    await run(w);
  },
  toString: () => name,
});

const enqueue = fc.constant(
  command("enqueue", async (w) => {
    w.ids.push((await w.replicas[0].manager.enqueue(w.schedulerName, "hold", {})).id);
  }),
);
const cancel = fc.tuple(fc.integer({ min: 0, max: 1 }), fc.nat(9)).map(([r, i]) =>
  command(
    `cancel(${r},${i})`,
    (w) => w.cancel(r, i),
    (m) => m.enqueued > 0,
  ),
);
const finish = fc.nat(9).map((i) =>
  command(
    `finish(${i})`,
    async (w) => w.gates.get(w.ids[i % w.ids.length] ?? "")?.(),
    (m) => m.enqueued > 0,
  ),
);
const stall = fc.integer({ min: 0, max: 1 }).map((r) =>
  command(`stall(${r})`, async (w) => {
    w.replicas[r]!.stalled = true;
  }),
);
// Time passes: renewals, expiries and pick-ups happen in between.
const wait = fc
  .integer({ min: 0, max: 2 })
  .map((k) => command(`wait(${k})`, () => sleep([5, 60, LEASE_TTL_MS + 50][k]!)));

// fast-check picks among these uniformly: the repeated ones come up more often.
const commands = [
  enqueue,
  enqueue,
  cancel,
  cancel,
  cancel,
  finish,
  wait,
  wait,
  stall,
  // A stalled replica (above): its renewals are held while it keeps running, and writing.
  fc.integer({ min: 0, max: 1 }).map((r) => command(`start-worker(${r})`, async (w) => w.replicas[r]!.startWorker())),
  fc.integer({ min: 0, max: 1 }).map((r) => command(`stop-worker(${r})`, (w) => w.replicas[r]!.stopWorker())),
  fc.integer({ min: 0, max: 1 }).map((r) =>
    command(`heal(${r})`, async (w) => {
      w.replicas[r]!.stalled = false;
    }),
  ),
  // Takeover: a replica recovers the operations whose lease expired, as a new owner does.
  fc.integer({ min: 0, max: 1 }).map((r) => command(`recover(${r})`, (w) => w.replicas[r]!.recover())),
];

function checkInvariants(w: World, final: Map<string, OperationStatusName>): void {
  const { journal } = w;
  for (const id of w.ids) {
    const status = final.get(id);
    expect(status && finalOperationStatuses.includes(status), `operation ${id} ended`).toBe(true);
    const finals = journal.writes.filter((x) => x.op === id && x.status && finalOperationStatuses.includes(x.status));
    expect(
      finals.map((x) => x.status),
      `operation ${id}: exactly one final write`,
    ).toEqual([status]);
    // Unfenced = written by a cancel of the pending operation (workers and recovery write with their lease token).
    const canceledPending = finals.some((x) => x.status === "canceled" && x.fence === undefined);
    if (canceledPending) expect(journal.executed.has(id), `operation ${id} canceled while pending ran`).toBe(false);
  }
  // Fencing: a write carrying token T must not land after a newer lease on the same operation was granted.
  for (const write of journal.writes) {
    if (write.fence === undefined) continue;
    const newer = journal.grants.find((g) => g.op === write.op && g.token > write.fence! && g.at < write.issued);
    expect(newer, `${write.replica} wrote for ${write.op} with token ${write.fence} after token ${newer?.token}`).toBe(
      undefined,
    );
  }
  for (const { op, outcome } of journal.cancels) {
    expect(["ok", "conflict", "unavailable"], `cancel of ${op} answered ${outcome}`).toContain(outcome);
    if (outcome !== "ok") continue;
    const allowed: OperationStatusName[] = journal.recovered.has(op) ? ["canceled", "error"] : ["canceled"];
    expect(allowed, `an acknowledged cancel of ${op} ended ${final.get(op)}`).toContain(final.get(op));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function modelRuns(backend: () => Promise<Backend>): Promise<void> {
  await fc.assert(
    fc.asyncProperty(fc.commands(commands, { maxCommands: 25, size: "+1" }), async (cmds) => {
      const world = new World(await backend());
      for (const r of world.replicas) await r.listen();
      world.replicas[0].startWorker();
      try {
        await fc.asyncModelRun(() => ({ model: { enqueued: 0 }, real: world }), cmds);
      } finally {
        const final = await world.settle();
        checkInvariants(world, final);
        console.log(
          cmds.toString(),
          [...final.values()].join(","),
          world.journal.cancels.map((c) => c.outcome).join(","),
          [...world.journal.recovered].length,
        );
      }
    }),
    { numRuns: RUNS, endOnFailure: true },
  );
}

describe("operations under concurrency (model-based)", () => {
  let redis: TestRedis | undefined;
  const clients: RedisClient[] = [];
  const queues: RedisOperationQueue[] = [];

  beforeAll(async () => {
    redis = await startRedis();
  });

  afterAll(async () => {
    for (const q of queues) await q.close();
    for (const c of clients) c.disconnect();
    await redis?.stop();
  });

  it("memory adapters", async () => {
    const cancels = new MemoryCancelSignals();
    await modelRuns(async () => {
      const leases = new MemoryLeaseStorage();
      return {
        leases,
        operations: new MemoryOperationStorage({ leases }),
        queue: new MemoryOperationQueue(),
        cancels,
      };
    });
  }, 60_000);

  it("real Redis", async () => {
    const client = createRedisClient(redis!.url, { name: "operations-model" });
    clients.push(client);
    await waitUntilReady(client, { timeoutMs: 10_000 });
    const queue = new RedisOperationQueue(client);
    queues.push(queue);
    const cancels = new RedisCancelSignals(client);
    await modelRuns(async () => ({
      operations: new RedisOperationStorage(client),
      leases: new RedisLeaseStorage(client),
      queue,
      cancels,
    }));
  }, 60_000);
});
