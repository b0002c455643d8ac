import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { schedulerBody, startTestMaestro, type TestMaestro } from "../../server/test/support/test-maestro.js";
import { schedulerFromJson } from "../src/index.js";
import { createMaestroClient, isMaestroClientError } from "../src/web.js";

describe("@maestro/sdk-management/web", () => {
  let maestro: TestMaestro;
  beforeAll(async () => {
    maestro = await startTestMaestro({ "managementApi.readTokens": "reader", "managementApi.writeTokens": "writer" });
  });
  afterAll(async () => maestro?.stop());

  it("is built without the Node-only transport", async () => {
    const built = await readFile(new URL("../dist/web.js", import.meta.url), "utf8");
    expect(built).toContain("createMaestroClientWith");
    expect(built).not.toContain("connect-node");
  });

  it("reads compressed replies over fetch, and maps refusals", async () => {
    const stranger = createMaestroClient({ baseUrl: maestro.managementUrl, token: "stranger" });
    const refused = await stranger.schedulers.list().catch((err: unknown) => err);
    expect(isMaestroClientError(refused) && refused.code).toBe("unauthenticated");

    const body = schedulerBody("big") as { spec: { containers: Record<string, unknown>[] } };
    body.spec.containers[0]!.environment = Array.from({ length: 80 }, (_, i) => ({
      name: `VAR_${i}`,
      value: "x".repeat(20),
    }));
    const writer = createMaestroClient({ baseUrl: maestro.managementUrl, token: "writer" });
    await writer.schedulers.create(schedulerFromJson(body));

    // The scenario is real: a reply this big comes gzip-compressed to a client that accepts gzip, as fetch does.
    const raw = await fetch(`${maestro.managementUrl}/maestro.v1.SchedulersService/GetScheduler`, {
      method: "POST",
      headers: { authorization: "Bearer reader", "content-type": "application/json", "accept-encoding": "gzip" },
      body: JSON.stringify({ schedulerName: "big" }),
    });
    expect(raw.headers.get("content-encoding")).toBe("gzip");

    const reader = createMaestroClient({ baseUrl: maestro.managementUrl, token: "reader" });
    const got = await reader.schedulers.get("big");
    expect(got.spec?.containers[0]?.environment).toHaveLength(80);
    const denied = await reader.schedulers.delete("big").catch((err: unknown) => err);
    expect(isMaestroClientError(denied) && denied.code).toBe("permission_denied");
  });
});
