import { describe, expect, it } from "vitest";
import { useSplitDeployment } from "../support/split-deployment.js";
import { eventually, http, pingingSchedulerBody } from "../support/test-maestro.js";

/**
 * The APIs and the worker in separate processes, sharing PostgreSQL and Redis (rooms and operations): a scheduler
 * created through one process gets its rooms from the other, and those rooms report to the first one's rooms API.
 */
describe("modules split across processes", () => {
  const deployment = useSplitDeployment("split-modules-test-secret");

  it("serves the APIs from one process while another runs the rooms", async () => {
    const { apis } = await deployment.startApisAndWorker();
    // A second management API: its read cache and the answers it encoded once must not outlive a write made elsewhere.
    const reader = await deployment.start(["management-api"]);
    const read = (path: string, etag = "") =>
      fetch(reader.managementUrl + path, { headers: etag ? { "if-none-match": etag } : {} });
    const emptyList = await read("/schedulers");
    expect(((await emptyList.json()) as { schedulers: unknown[] }).schedulers).toEqual([]);

    const body = pingingSchedulerBody("split", { roomsReplicas: 2 });
    expect((await http(apis.managementUrl, "POST", "/schedulers", body)).status).toBe(200);
    const listed = await read("/schedulers", emptyList.headers.get("etag")!);
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { schedulers: { name: string }[] }).schedulers.map((s) => s.name)).toEqual([
      "split",
    ]);
    const seen = await read("/schedulers/split");
    const seenState = ((await seen.json()) as { scheduler: { state: string } }).scheduler.state;
    // The worker's write (creating -> in-sync) is visible to the reader as soon as the writer's own API shows it.
    await eventually(
      async () => (await http(apis.managementUrl, "GET", "/schedulers/split")).json.scheduler?.state === "in-sync",
      { what: "in-sync through the first process", timeoutMs: 30_000 },
    );
    const again = await read("/schedulers/split", seen.headers.get("etag")!);
    if (seenState === "in-sync") expect(again.status).toBe(304);
    else expect(((await again.json()) as { scheduler: { state: string } }).scheduler.state).toBe("in-sync");
    const rooms = await eventually(
      async () => {
        const r = (await http(apis.managementUrl, "GET", "/schedulers/split/rooms")).json.rooms;
        return r?.length === 2 && r.every((x: { status: string }) => x.status === "ready") ? r : undefined;
      },
      { what: "2 rooms ready through the other process", timeoutMs: 30_000 },
    );
    expect(rooms[0]).toMatchObject({ pingStatus: "ready", host: "127.0.0.1", instanceStatus: "ready" });
    const info = (await http(apis.managementUrl, "GET", "/schedulers/info")).json.schedulers;
    expect(info).toEqual([expect.objectContaining({ name: "split", roomsReady: 2 })]);

    expect((await http(apis.managementUrl, "DELETE", "/schedulers/split")).status).toBe(200);
    await eventually(async () => (await http(apis.managementUrl, "GET", "/schedulers/split")).status === 404, {
      what: "scheduler deleted",
      timeoutMs: 30_000,
    });
  });
});
