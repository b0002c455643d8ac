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

    const body = pingingSchedulerBody("split", { roomsReplicas: 2 });
    expect((await http(apis.managementUrl, "POST", "/schedulers", body)).status).toBe(200);
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
