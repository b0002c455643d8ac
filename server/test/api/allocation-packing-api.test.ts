import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, http, schedulerBody, startTestMaestro, type TestMaestro } from "../support/test-maestro.js";

describe("allocation of multi-match rooms through the rooms API", () => {
  let maestro: TestMaestro;
  beforeAll(async () => {
    maestro = await startTestMaestro();
  });
  afterAll(async () => maestro?.stop());

  it("hands each match slot to one caller only when many allocate at once, filling rooms before fresh ones", async () => {
    const body = schedulerBody("packed", { roomsReplicas: 3, matchAllocation: { maxMatches: 2 } });
    expect((await http(maestro.managementUrl, "POST", "/schedulers", body)).status).toBe(200);
    const rooms: { id: string }[] = await eventually(async () => {
      const r = (await http(maestro.managementUrl, "GET", "/schedulers/packed/rooms")).json.rooms;
      return r?.length === 3 && r.every((x: { instanceStatus: string }) => x.instanceStatus === "ready")
        ? r
        : undefined;
    });
    for (const { id } of rooms) {
      const ping = await http(
        maestro.roomsUrl,
        "PUT",
        `/scheduler/packed/rooms/${id}/ping`,
        { status: "ready" },
        { authorization: `Bearer ${maestro.context.tokens.tokenFor("packed", id)}` },
      );
      expect(ping.status).toBe(200);
    }

    const allocate = () => http(maestro.roomsUrl, "POST", "/scheduler/packed/rooms/allocate", {});
    // One allocation first: the next one must pack into that room rather than take a fresh one.
    const first = await allocate();
    expect(first.status).toBe(200);
    const second = await allocate();
    expect(second.json.roomId).toBe(first.json.roomId);

    const answers = await Promise.all(Array.from({ length: 10 }, allocate));
    const granted = answers.filter((a) => a.status === 200).map((a) => a.json.roomId as string);
    expect(granted).toHaveLength(4);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(6);
    const perRoom = new Map<string, number>();
    for (const id of [first.json.roomId, second.json.roomId, ...granted]) perRoom.set(id, (perRoom.get(id) ?? 0) + 1);
    expect([...perRoom.values()]).toEqual([2, 2, 2]);

    const listed = (await http(maestro.managementUrl, "GET", "/schedulers/packed/rooms")).json.rooms;
    expect(listed.map((r: { status: string; runningMatches: number }) => [r.status, r.runningMatches])).toEqual([
      ["occupied", 2],
      ["occupied", 2],
      ["occupied", 2],
    ]);
  });
});
