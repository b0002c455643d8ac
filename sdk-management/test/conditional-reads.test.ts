import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metricValue, scrape } from "../../server/test/support/prometheus.js";
import {
  eventually,
  schedulerBody,
  startTestMaestro,
  type TestMaestro,
} from "../../server/test/support/test-maestro.js";
import { createMaestroClient, schedulerFromJson } from "../src/index.js";
import { createMaestroClient as createWebClient } from "../src/web.js";

let maestro: TestMaestro;

beforeAll(async () => {
  maestro = await startTestMaestro();
  const client = createMaestroClient({ baseUrl: maestro.managementUrl, timeoutMs: 30_000 });
  await client.schedulers.create(schedulerFromJson(schedulerBody("cond-reads")));
  await eventually(async () => (await client.schedulers.get("cond-reads")).state === "in-sync");
});

afterAll(async () => {
  await maestro?.stop();
});

/** How many GETs of an RPC the server answered with `code`, from its own request counter. */
async function answered(rpc: string, code: number): Promise<number> {
  const samples = await scrape(maestro.urls.internalApi);
  const labels = { method: "GET", route: `/maestro.v1.${rpc}`, code: String(code) };
  return metricValue(samples, "maestro_http_requests_total", labels) ?? 0;
}

describe("reads as conditional GETs", () => {
  it("the Node client asks again with If-None-Match, gets a 304 and returns the same scheduler", async () => {
    const client = createMaestroClient({ baseUrl: maestro.managementUrl, timeoutMs: 30_000 });
    const before = await answered("SchedulersService/GetScheduler", 304);
    const first = await client.schedulers.get("cond-reads");
    const second = await client.schedulers.get("cond-reads");
    expect(second).toEqual(first);
    expect(await answered("SchedulersService/GetScheduler", 304)).toBe(before + 1);

    // A change is seen at once: the held answer's ETag no longer matches.
    await client.schedulers.patch("cond-reads", { maxSurge: "35%" });
    await eventually(async () => (await client.schedulers.get("cond-reads")).maxSurge === "35%");
    const listed = await client.schedulers.list({ game: "test-game" });
    expect(await client.schedulers.list({ game: "test-game" })).toEqual(listed);
    expect(await answered("SchedulersService/ListSchedulers", 304)).toBeGreaterThanOrEqual(1);
  });

  it("the browser client (the dashboard's) does the same over fetch", async () => {
    const statuses: number[] = [];
    const client = createWebClient({
      baseUrl: maestro.managementUrl,
      timeoutMs: 30_000,
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        statuses.push(res.status);
        return res;
      },
    });
    const first = await client.schedulers.get("cond-reads");
    const second = await client.schedulers.get("cond-reads");
    expect(second).toEqual(first);
    expect(statuses).toEqual([200, 304]);
    // Another scheduler name is another URL: no answer is held for it, and a missing one is still an error.
    await expect(client.schedulers.get("no-such-cond")).rejects.toMatchObject({ code: "not_found" });
    expect(statuses).toEqual([200, 304, 404]);
  });
});
