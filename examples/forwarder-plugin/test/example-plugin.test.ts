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

  it("keeps two spare ready rooms beyond the busy ones", () => {
    const policy = { type: "spareRooms", parameters: {} };
    expect(spareRoomsPolicy.desiredRooms(roomsSnapshot({ occupied: 3, ready: 1 }), policy)).toBe(5);
    expect(spareRoomsPolicy.canDownscale(roomsSnapshot({ ready: 2 }), policy, 2)).toBe(false);
    expect(spareRoomsPolicy.canDownscale(roomsSnapshot({ ready: 5 }), policy, 2)).toBe(true);
  });
});
