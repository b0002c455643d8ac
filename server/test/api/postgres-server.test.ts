import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPostgres, type TestPostgres } from "../support/postgres.js";
import { eventually, http, schedulerBody, startTestMaestro } from "../support/test-maestro.js";

/** The server with its schedulers on a real PostgreSQL (storage.schedulers.kind=postgres), as in production. */
describe("management API on PostgreSQL", () => {
  let pg: TestPostgres;
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => pg?.stop());

  it("migrates at start, serves schedulers from Postgres, and keeps them across server restarts", async () => {
    const settings = { "storage.schedulers.kind": "postgres", "storage.schedulers.url": pg.url };
    const first = await startTestMaestro(settings);
    try {
      expect((await http(first.managementUrl, "POST", "/schedulers", schedulerBody("on-postgres"))).status).toBe(200);
      await eventually(
        async () =>
          (await http(first.managementUrl, "GET", "/schedulers/on-postgres")).json.scheduler?.state === "in-sync",
        { what: "in-sync" },
      );
    } finally {
      await first.stop();
    }
    const second = await startTestMaestro(settings);
    try {
      const kept = await http(second.managementUrl, "GET", "/schedulers/on-postgres");
      expect(kept.json.scheduler).toMatchObject({ name: "on-postgres", state: "in-sync", spec: { version: "v1.0.0" } });
      expect((await http(second.managementUrl, "GET", "/schedulers/on-postgres/versions")).json.versions).toHaveLength(
        1,
      );
    } finally {
      await second.stop();
    }
  });
});
