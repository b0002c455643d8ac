import { describe, expect, it } from "vitest";
import { gameRoom } from "../support/fixtures.js";
import { useSharedStoresMaestros } from "../support/shared-stores-maestro.js";
import { http, schedulerBody } from "../support/test-maestro.js";

/**
 * Each process opens only what its modules need: on PostgreSQL + Redis, a rooms API alone serves pings without
 * opening operation storage or a runtime, and a management API alone opens the runtime only when an RPC asks for it.
 */
describe("modules build only what they need", () => {
  const { start } = useSharedStoresMaestros();

  it("serves pings from a rooms API that opened no operation storage and no runtime", async () => {
    const management = await start(["management-api"]);
    const M = management.urls.managementApi!;
    expect((await http(M, "POST", "/schedulers", schedulerBody("parts"))).status).toBe(200);
    expect((await http(M, "GET", "/schedulers/parts")).status).toBe(200);
    expect(management.context.built().parts).toEqual(["scheduler-storage", "room-storage", "operation-storage"]);

    const room = gameRoom({ id: "parts-room", schedulerName: "parts", status: "pending", pingStatus: "unknown" });
    await management.context.rooms.createRoom(room);

    const rooms = await start(["rooms-api"]);
    const token = rooms.context.tokens.tokenFor("parts", room.id);
    const ping = await http(
      rooms.urls.roomsApi!,
      "PUT",
      `/scheduler/parts/rooms/${room.id}/ping`,
      { status: "ready", timestamp: 1 },
      { authorization: `Bearer ${token}` },
    );
    expect(ping).toEqual({ status: 200, json: { success: true } });
    expect((await management.context.rooms.getRoom("parts", room.id))?.pingStatus).toBe("ready");

    expect(rooms.context.built().parts).toEqual(["scheduler-storage", "room-storage"]);
    expect(rooms.context.built().services).not.toContain("operation-manager");
    expect(rooms.context.built().services).not.toContain("operation-registry");
    expect(rooms.context.openedRuntime()).toBeUndefined();
    expect(() => rooms.context.queue).toThrow(/operation-storage is not opened in this process/);
    const ready = await http(rooms.urls.internalApi, "GET", "/readyz");
    expect(ready.status).toBe(200);
    const probes: string[] = ready.json.checks.map((c: { name: string }) => c.name);
    expect(probes).toEqual(["scheduler-storage (postgres)", expect.stringMatching(/^redis /)]);
  });

  it("opens the runtime of a management API alone on the first RPC that needs it", async () => {
    const management = await start(["management-api"]);
    const M = management.urls.managementApi!;
    expect((await http(M, "GET", "/schedulers")).status).toBe(200);
    // The runtime's own refusals are checked without opening it.
    const body = schedulerBody("parts-refused");
    (body.spec as { containers: Record<string, unknown>[] }).containers[0]!.environment = [
      { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
    ];
    const refused = await http(M, "POST", "/schedulers", body);
    expect(refused.status).toBe(400);
    expect(refused.json.message).toContain("unsupported by the process runtime");
    expect(management.context.openedRuntime()).toBeUndefined();
    // Listing rooms reports their CPU and memory: that needs the runtime.
    expect((await http(M, "GET", "/schedulers/parts/rooms")).status).toBe(200);
    expect(management.context.openedRuntime()?.name).toBe("process");
    expect(management.context.built().parts).toContain("runtime");
  });
});
