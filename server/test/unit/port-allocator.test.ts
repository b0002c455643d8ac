import { createSocket } from "node:dgram";
import { createServer, type Server } from "node:net";
import { describe, expect, it } from "vitest";
import { isPortFree, RandomPortAllocator } from "../../src/adapters/port-allocator/random-port-allocator.js";
import type { ContainerPort, Scheduler } from "../../src/core/entities/scheduler.js";
import { isMaestroError, type MaestroError } from "../../src/core/errors.js";
import { validContainer, validScheduler } from "../support/fixtures.js";

/** mulberry32: a tiny seeded generator so every run draws the same ports. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const none = async () => new Set<number>();

function schedulerWithRange(start: number, end: number, ports: ContainerPort[][]): Scheduler {
  return validScheduler({
    portRange: { start, end },
    spec: { containers: ports.map((p, i) => validContainer({ name: `c${i}`, ports: p })) },
  });
}

function port(name: string, protocol: "tcp" | "udp" = "tcp", hostPortRange?: { start: number; end: number }) {
  return { name, protocol, port: 7000, hostPortRange };
}

function perPortScheduler(ranges: { start: number; end: number }[]): Scheduler {
  return validScheduler({
    portRange: undefined,
    spec: { containers: [validContainer({ ports: ranges.map((r, i) => port(`p${i}`, "tcp", r)) })] },
  });
}

async function failure(work: Promise<unknown>): Promise<MaestroError> {
  try {
    await work;
  } catch (err) {
    if (isMaestroError(err)) return err;
    throw err;
  }
  throw new Error("expected allocate to fail");
}

describe("RandomPortAllocator", () => {
  it("gives distinct ports from the scheduler-wide range to every declared port of every container", async () => {
    const allocator = new RandomPortAllocator({ portsInUse: none, random: seeded(1) });
    const scheduler = schedulerWithRange(40000, 40009, [[port("game"), port("voice", "udp")], [port("admin")]]);
    const ports = await allocator.allocate(scheduler);
    expect(ports.map((p) => [p.name, p.protocol])).toEqual([
      ["game", "tcp"],
      ["voice", "udp"],
      ["admin", "tcp"],
    ]);
    expect(new Set(ports.map((p) => p.hostPort)).size).toBe(3);
    for (const p of ports) {
      expect(p.hostPort).toBeGreaterThanOrEqual(40000);
      expect(p.hostPort).toBeLessThanOrEqual(40009);
      // The process binds the host port itself.
      expect(p.containerPort).toBe(p.hostPort);
    }
  });

  it("takes each port from its own hostPortRange", async () => {
    const allocator = new RandomPortAllocator({ portsInUse: none, random: seeded(2) });
    const ranges = [
      { start: 41000, end: 41004 },
      { start: 42000, end: 42004 },
    ];
    const ports = await allocator.allocate(perPortScheduler(ranges));
    expect(ports[0]!.hostPort).toBeGreaterThanOrEqual(41000);
    expect(ports[0]!.hostPort).toBeLessThanOrEqual(41004);
    expect(ports[1]!.hostPort).toBeGreaterThanOrEqual(42000);
    expect(ports[1]!.hostPort).toBeLessThanOrEqual(42004);
  });

  it("keeps the spec's container port when asked to (runtimes that map host ports)", async () => {
    const allocator = new RandomPortAllocator({ portsInUse: none, random: seeded(3), containerPort: "declared" });
    const [p] = await allocator.allocate(schedulerWithRange(40000, 40100, [[port("game")]]));
    expect(p!.containerPort).toBe(7000);
    expect(p!.hostPort).not.toBe(7000);
  });

  it("never hands out a port held by a live room", async () => {
    const inUse = new Set<number>();
    for (let p = 43000; p <= 43099; p++) if (p !== 43057) inUse.add(p);
    const allocator = new RandomPortAllocator({ portsInUse: async () => inUse, random: seeded(4) });
    const [p] = await allocator.allocate(schedulerWithRange(43000, 43099, [[port("game")]]));
    expect(p!.hostPort).toBe(43057);
  });

  it("never hands out a port it handed out before until it is released, then exhausts the range", async () => {
    const allocator = new RandomPortAllocator({ portsInUse: none, random: seeded(5) });
    const scheduler = schedulerWithRange(44000, 44002, [[port("game")]]);
    const taken: number[] = [];
    for (let i = 0; i < 3; i++) taken.push((await allocator.allocate(scheduler))[0]!.hostPort);
    expect(taken.sort()).toEqual([44000, 44001, 44002]);

    const err = await failure(allocator.allocate(scheduler));
    expect(err.code).toBe("resource_exhausted");
    expect(err.message).toContain("portRange 44000-44002");

    allocator.release([44001]);
    expect((await allocator.allocate(scheduler))[0]!.hostPort).toBe(44001);
  });

  it("names the exhausted per-port range and gives back the ports it took for the same room", async () => {
    const allocator = new RandomPortAllocator({ portsInUse: none, random: seeded(6) });
    const busy = perPortScheduler([{ start: 45100, end: 45100 }]);
    await allocator.allocate(busy);
    const both = perPortScheduler([
      { start: 45000, end: 45000 },
      { start: 45100, end: 45100 },
    ]);
    const err = await failure(allocator.allocate(both));
    expect(err.code).toBe("resource_exhausted");
    expect(err.message).toContain("spec.containers[0].ports[1].hostPortRange 45100-45100");
    // 45000 was taken for the failed room and must be free again.
    const [p] = await allocator.allocate(perPortScheduler([{ start: 45000, end: 45000 }]));
    expect(p!.hostPort).toBe(45000);
  });

  it("consults isFree and skips busy ports", async () => {
    const asked: number[] = [];
    const allocator = new RandomPortAllocator({
      portsInUse: none,
      random: seeded(7),
      isFree: async (p, protocol) => {
        asked.push(p);
        expect(protocol).toBe("udp");
        return p === 46013;
      },
    });
    const [p] = await allocator.allocate(schedulerWithRange(46000, 46019, [[port("voice", "udp")]]));
    expect(p!.hostPort).toBe(46013);
    expect(asked).toContain(46013);
    expect(asked.length).toBeGreaterThan(1);
  });

  it("spreads ports over the range instead of counting from its start", async () => {
    const allocator = new RandomPortAllocator({ portsInUse: none, random: seeded(8) });
    const scheduler = schedulerWithRange(47000, 47999, [[port("game")]]);
    const seen = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const [p] = await allocator.allocate(scheduler);
      seen.add(p!.hostPort);
      allocator.release([p!.hostPort]);
    }
    expect(seen.size).toBeGreaterThan(10);
  });

  it("is deterministic for a given random source", async () => {
    const scheduler = schedulerWithRange(48000, 48999, [[port("a"), port("b"), port("c")]]);
    const first = await new RandomPortAllocator({ portsInUse: none, random: seeded(9) }).allocate(scheduler);
    const second = await new RandomPortAllocator({ portsInUse: none, random: seeded(9) }).allocate(scheduler);
    expect(second).toEqual(first);
  });

  it("never gives the same port to concurrent allocations, even while isFree is checking", async () => {
    const allocator = new RandomPortAllocator({
      portsInUse: none,
      // A constant draw makes every allocation aim at the same port first.
      random: () => 0.5,
      isFree: () => new Promise((resolve) => setImmediate(() => resolve(true))),
    });
    const scheduler = schedulerWithRange(49000, 49009, [[port("game")]]);
    const results = await Promise.all(Array.from({ length: 10 }, () => allocator.allocate(scheduler)));
    expect(new Set(results.map((r) => r[0]!.hostPort)).size).toBe(10);
  });

  it("frees a port whose room the runtime reported and then stopped reporting (a release missed elsewhere)", async () => {
    let inUse = new Set<number>();
    const allocator = new RandomPortAllocator({ portsInUse: async () => inUse, random: seeded(10) });
    const scheduler = schedulerWithRange(50000, 50000, [[port("game")]]);
    expect((await allocator.allocate(scheduler))[0]!.hostPort).toBe(50000);
    // Handed out, room not created yet: still reserved.
    expect((await failure(allocator.allocate(scheduler))).code).toBe("resource_exhausted");
    inUse = new Set([50000]);
    expect((await failure(allocator.allocate(scheduler))).code).toBe("resource_exhausted");
    inUse = new Set();
    expect((await allocator.allocate(scheduler))[0]!.hostPort).toBe(50000);
  });

  it("refuses a port without any range and gives nothing for a scheduler without ports", async () => {
    const allocator = new RandomPortAllocator({ portsInUse: none });
    const noRange = validScheduler({ portRange: undefined });
    const err = await failure(allocator.allocate(noRange));
    expect(err.code).toBe("invalid_argument");
    expect(err.violations[0]?.field).toBe("spec.containers[0].ports[0].hostPortRange");
    const portless = validScheduler({ spec: { containers: [validContainer({ ports: [] })] } });
    expect(await allocator.allocate(portless)).toEqual([]);
  });

  it("stops with canceled when the signal is aborted", async () => {
    const allocator = new RandomPortAllocator({ portsInUse: none });
    const controller = new AbortController();
    controller.abort();
    const err = await failure(allocator.allocate(validScheduler(), { signal: controller.signal }));
    expect(err.code).toBe("canceled");
  });
});

describe("isPortFree", () => {
  it("sees a TCP port held by a listener, on the wildcard and on the listener's address", async () => {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen({ port: 0, host: "127.0.0.1" }, resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    const held = address.port;
    try {
      expect(await isPortFree(held, "tcp")).toBe(false);
      expect(await isPortFree(held, "tcp", "127.0.0.1")).toBe(false);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(await isPortFree(held, "tcp", "127.0.0.1")).toBe(true);
  });

  it("sees a UDP port held by a socket", async () => {
    const socket = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind({ port: 0, address: "127.0.0.1" }, resolve));
    const held = socket.address().port;
    try {
      expect(await isPortFree(held, "udp", "127.0.0.1")).toBe(false);
    } finally {
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    }
    expect(await isPortFree(held, "udp", "127.0.0.1")).toBe(true);
  });
});
