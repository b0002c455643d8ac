import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Logger, roomsSnapshot } from "@maestro/server/plugin";
import { afterAll, describe, expect, it } from "vitest";
import { jsonlForwarder, maestroPlugin, spareRoomsPolicy } from "../src/index.js";

const logger: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => logger };

describe("example plugin", () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it("exports one forwarder type and one policy", () => {
    expect(maestroPlugin.forwarders?.map((f) => f.type)).toEqual(["jsonl"]);
    expect(maestroPlugin.policies?.map((p) => p.type)).toEqual(["spareRooms"]);
  });

  it("appends each event as a JSON line to the file named by the address", async () => {
    const dir = await mkdtemp(join(tmpdir(), "jsonl-"));
    dirs.push(dir);
    const file = join(dir, "events.jsonl");
    expect(jsonlForwarder.checkAddress?.("relative.jsonl")).toMatch(/absolute/);
    const client = jsonlForwarder.create({ name: "log", enable: true, type: "jsonl", address: file }, { logger });
    const room = { game: "g", roomId: "r1", host: "h", port: 1, metadata: {}, roomType: "" };
    await client.roomEvent({ room, eventType: "started" }, { signal: AbortSignal.timeout(1000), eventId: "e1" });
    await client.roomStatus({ room, status: "terminated" }, { signal: AbortSignal.timeout(1000), eventId: "e2" });
    const lines = (await readFile(file, "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.id, l.event])).toEqual([
      ["e1", "roomEvent"],
      ["e2", "roomStatus"],
    ]);
  });

  it("keeps two spare ready rooms beyond the busy ones by default", () => {
    const policy = { type: "spareRooms", parameters: {} };
    expect(spareRoomsPolicy.desiredRooms(roomsSnapshot({ occupied: 3, ready: 1 }), policy)).toBe(5);
    expect(spareRoomsPolicy.canDownscale(roomsSnapshot({ ready: 2 }), policy, 2)).toBe(false);
    expect(spareRoomsPolicy.canDownscale(roomsSnapshot({ ready: 5 }), policy, 2)).toBe(true);
  });

  it("keeps custom.spare ready rooms when the scheduler sets it", () => {
    const policy = { type: "spareRooms", parameters: { custom: { spare: 4 } } };
    const busy = roomsSnapshot({ occupied: 1, active: 1, allocated: 1, ready: 2 });
    expect(spareRoomsPolicy.desiredRooms(busy, policy)).toBe(7);
    expect(spareRoomsPolicy.canDownscale(roomsSnapshot({ ready: 4 }), policy, 4)).toBe(false);
    expect(spareRoomsPolicy.canDownscale(roomsSnapshot({ ready: 5 }), policy, 4)).toBe(true);
    const none = { type: "spareRooms", parameters: { custom: { spare: 0 } } };
    expect(spareRoomsPolicy.desiredRooms(roomsSnapshot({ occupied: 2 }), none)).toBe(2);
  });

  it("validates its parameters, naming each bad one", () => {
    expect(spareRoomsPolicy.validate?.({})).toEqual([]);
    expect(spareRoomsPolicy.validate?.({ spare: 3 })).toEqual([]);
    expect(spareRoomsPolicy.validate?.({ spare: -1 })).toEqual([
      { field: "spare", message: "must be an integer between 0 and 1000" },
    ]);
    expect(spareRoomsPolicy.validate?.({ spare: "3" })?.map((p) => p.field)).toEqual(["spare"]);
    expect(spareRoomsPolicy.validate?.({ spare: 1.5 })?.map((p) => p.field)).toEqual(["spare"]);
    expect(spareRoomsPolicy.validate?.({ spares: 3 })).toEqual([
      { field: "spares", message: "is not a spareRooms parameter (only spare)" },
    ]);
  });
});
