import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import {
  api,
  gameRoomPath,
  type MaestroProcess,
  startMaestroProcess,
  waitFor,
} from "../../test/support/maestro-process.js";
import { envOf, roomPids } from "../../test/support/processes.js";
import { artifactsDir, launchBrowser, type TestBrowser } from "./support/browser.js";

const SCHEDULER = "dash-game";
const distIndex = fileURLToPath(new URL("../dist/index.html", import.meta.url));

const container = (command: string[]) => ({
  name: "game-room",
  image: "local",
  imagePullPolicy: "IfNotPresent",
  command,
  environment: [{ name: "GAME_LOG_PREFIX", value: "dashboard" }],
  requests: { memory: "64Mi", cpu: "100m" },
  limits: { memory: "128Mi", cpu: "200m" },
  ports: [{ name: "game", protocol: "tcp", port: 7000 }],
});

const schedulerBody = (extra: Record<string, unknown> = {}) => ({
  name: SCHEDULER,
  game: "dashboard",
  maxSurge: "1",
  roomsReplicas: 3,
  portRange: { start: 43000, end: 43999 },
  spec: { terminationGracePeriod: "5", containers: [container([process.execPath, gameRoomPath])] },
  ...extra,
});

/** A page that leaves a screenshot in test-artifacts when its test fails. */
async function pageFor(browser: TestBrowser, name: string) {
  const page = await browser.newPage();
  onTestFailed(async () => {
    await page.screenshot({ path: join(artifactsDir, `failed-${name}.png`), fullPage: true }).catch(() => {});
  });
  return page;
}

/** The ids of rooms shown with a status in the scheduler page's rooms table. */
const roomsOnScreen = (page: Page, status: string) =>
  page.$$eval(`[data-testid="rooms"] tr[data-status="${status}"]`, (rows) =>
    rows.map((r) => r.getAttribute("data-testid")!.slice("room-".length)),
  );

describe("dashboard in a real browser against maestro start", () => {
  let maestro: MaestroProcess;
  let browser: TestBrowser;

  beforeAll(async () => {
    expect(existsSync(distIndex), "the dashboard must be built (npm run build -w @maestro/dashboard)").toBe(true);
    expect(existsSync(gameRoomPath), "examples/game-room must be built").toBe(true);
    maestro = await startMaestroProcess([
      "--set",
      "workers.healthControllerIntervalMs=1000",
      // The cancel test needs an operation that stays in progress: validation of rooms that never get ready.
      "--set",
      "rooms.validationTimeoutMs=300000",
    ]);
    browser = await launchBrowser();
    const created = await api(maestro.managementUrl, "POST", "/schedulers", schedulerBody());
    expect(created.status, JSON.stringify(created.json)).toBe(200);
  });
  afterAll(async () => {
    await browser?.close();
    await maestro?.stop();
  });

  it("the overview shows the scheduler and its ready rooms", async () => {
    const page = await pageFor(browser, "overview");
    await page.goto(`${maestro.managementUrl}/ui/`);
    const row = page.locator(`[data-testid="scheduler-${SCHEDULER}"]`);
    await row.waitFor({ timeout: 30_000 });
    // The page polls: wait until it shows the three rooms ready.
    await page.waitForFunction(
      (name) =>
        document
          .querySelector(`[data-testid="scheduler-${name}"] [data-testid="rooms-bar"]`)
          ?.getAttribute("aria-label") === "3 ready",
      SCHEDULER,
      { timeout: 90_000 },
    );
    expect(await row.locator("td").nth(1).textContent()).toBe("dashboard");
    expect(await row.locator("td").nth(2).textContent()).toBe("in-sync");
    expect(await row.locator("td").nth(3).textContent()).toBe("v1.0.0");
    expect(await row.locator('[data-testid="desired"]').textContent()).toBe("3 / 3");
    expect(await row.locator('[data-testid="occupancy"]').textContent()).toBe("0%");
    expect(await row.locator("td").nth(7).textContent()).toBe("off");
    expect(await page.locator('[data-testid="role"]').textContent()).toContain("open API");

    // Filtering by another game hides it.
    await page.goto(`${maestro.managementUrl}/ui/#/?game=elsewhere`);
    await page.getByText("No schedulers for game elsewhere").waitFor();
    await page.goto(`${maestro.managementUrl}/ui/#/?game=dashboard`);
    await row.waitFor();
    await page.screenshot({ path: join(artifactsDir, "overview.png"), fullPage: true });

    // An API error is shown in words, not as a blank page.
    await page.goto(`${maestro.managementUrl}/ui/#/schedulers/no-such-scheduler`);
    await page.locator('[data-testid="error"]').getByText("Not found").waitFor();
    expect(page.pageErrors).toEqual([]);
  });

  it("a room killed by the test turns into a replaced room on the scheduler page", async () => {
    const page = await pageFor(browser, "room-replaced");
    await page.goto(`${maestro.managementUrl}/ui/#/schedulers/${SCHEDULER}`);
    const before = await waitFor(async () => {
      const ids = await roomsOnScreen(page, "ready");
      return ids.length === 3 ? ids : undefined;
    }, "3 ready rooms on screen");

    const pids = roomPids(maestro.roomsUrl, SCHEDULER);
    const victimPid = pids.find((pid) => before.includes(envOf(pid).MAESTRO_ROOM_ID ?? ""));
    expect(victimPid, `a room process among ${pids.join(", ")}`).toBeDefined();
    const victim = envOf(victimPid!).MAESTRO_ROOM_ID!;
    process.kill(victimPid!, "SIGKILL");

    const after = await waitFor(
      async () => {
        const ids = await roomsOnScreen(page, "ready");
        return ids.length === 3 && !ids.includes(victim) ? ids : undefined;
      },
      "the killed room to be replaced on screen",
      90_000,
    );
    expect(after.filter((id) => before.includes(id))).toHaveLength(2);
    expect(await page.locator(`[data-testid="room-${victim}"]`).count()).toBe(0);
    // The history chart and the settings are there too.
    await page.locator('[data-testid="room-history"] rect').first().waitFor();
    expect(await page.locator('[data-testid="settings"]').textContent()).toContain("Not configured");
    // One version only: no empty "Changes in v1.0.0 from [ ]" list.
    const diff = page.locator('[data-testid="version-diff"]');
    await diff.getByText("The first version: nothing to compare with.").waitFor();
    expect(await diff.locator("h3").textContent()).toBe("Changes in v1.0.0");
    expect(await diff.locator("select").count()).toBe(0);
    // The tab has an icon, and the root /favicon.ico browsers ask for is no 404.
    expect(await page.locator('link[rel="icon"]').getAttribute("href")).toBe("/ui/favicon.svg");
    const icon = await fetch(`${maestro.managementUrl}/favicon.ico`);
    expect([icon.status, icon.headers.get("content-type")]).toEqual([200, "image/svg+xml"]);
    expect(page.pageErrors).toEqual([]);
  });

  it("draws the rooms' CPU and memory over their requests on the scheduler page", async () => {
    const page = await pageFor(browser, "usage-history");
    await page.goto(`${maestro.managementUrl}/ui/#/schedulers/${SCHEDULER}`);
    // The process runtime measures every room, so the memory line has points from the first samples on.
    await page.locator('[data-testid="usage-history"] polyline[data-series="memory"][points*=","]').waitFor();
    expect(await page.locator('[data-testid="usage-history"] figcaption').textContent()).toMatch(/memory \d+%/);

    // A metricsTriggers scheduler shows its triggers in the settings.
    const mt = "dash-triggers";
    const triggers = {
      up: { cooldown: 30, triggers: [{ type: "cpu", usage: 50, threshold: 80, time: 200, limit: 90 }] },
      down: { cooldown: 60, triggers: [{ type: "legacy", usage: 30, threshold: 80, time: 500, delta: 1 }] },
    };
    const body = schedulerBody({
      name: mt,
      roomsReplicas: 0,
      portRange: { start: 44000, end: 44999 },
      autoscaling: {
        enabled: false,
        min: 1,
        max: 5,
        cooldown: 0,
        policy: { type: "metricsTriggers", parameters: { metricsTriggers: triggers } },
      },
    });
    expect((await api(maestro.managementUrl, "POST", "/schedulers", body)).status).toBe(200);
    await page.goto(`${maestro.managementUrl}/ui/#/schedulers/${mt}`);
    await page.locator('[data-testid="triggers-up"]').waitFor();
    expect(await page.locator('[data-testid="triggers-up"]').textContent()).toBe(
      "cpu 50% for 80% of 200s, limit 90% (cooldown 30s)",
    );
    expect(await page.locator('[data-testid="triggers-down"]').textContent()).toBe(
      "legacy 30% for 80% of 500s, −1 rooms (cooldown 60s)",
    );
    expect(page.pageErrors).toEqual([]);
  });

  it("a scheduler whose rooms crash is marked on the overview and explained on its page", async () => {
    const name = "dash-crash";
    const crashing = container([process.execPath, "-e", "console.error('Error: bad room command'); process.exit(1)"]);
    const body = schedulerBody({
      name,
      roomsReplicas: 2,
      portRange: { start: 44000, end: 44999 },
      spec: { terminationGracePeriod: "5", containers: [crashing] },
    });
    const created = await api(maestro.managementUrl, "POST", "/schedulers", body);
    expect(created.status, JSON.stringify(created.json)).toBe(200);
    const page = await pageFor(browser, "rooms-crashing");
    await page.goto(`${maestro.managementUrl}/ui/`);
    const badge = page.locator(`[data-testid="scheduler-${name}"] [data-testid="rooms-crashing"]`);
    await badge.waitFor({ timeout: 60_000 });
    expect(await badge.getAttribute("title")).toContain("exit code 1: Error: bad room command");
    await page.goto(`${maestro.managementUrl}/ui/#/schedulers/${name}`);
    const note = page.locator('[data-testid="rooms-crashing"]');
    await note.waitFor();
    expect(await note.textContent()).toMatch(
      /Rooms keep crashing: \d+ crashed; last dash-crash-\S+: exit code 1: Error: bad room command/,
    );
    expect(await note.textContent()).toContain(`maestroctl rooms logs ${name} dash-crash-`);
    expect(page.pageErrors).toEqual([]);
    expect((await api(maestro.managementUrl, "DELETE", `/schedulers/${name}`)).status).toBe(200);
  });

  it("cancel from the UI ends an in-progress operation canceled", async () => {
    // A minor version first, so the versions panel has a change to show.
    const minor = await api(maestro.managementUrl, "PATCH", `/schedulers/${SCHEDULER}`, { maxSurge: "2" });
    expect(minor.status, JSON.stringify(minor.json)).toBe(200);
    await waitFor(
      async () =>
        (await api(maestro.managementUrl, "GET", `/schedulers/${SCHEDULER}/operations/${minor.json.operationId}`)).json
          .operation?.status === "finished",
      "the minor version to be active",
    );
    const neverReady = schedulerBody({
      spec: {
        terminationGracePeriod: "5",
        containers: [container([process.execPath, "-e", "setInterval(() => {}, 1000)"])],
      },
    });
    const res = await api(maestro.managementUrl, "POST", `/schedulers/${SCHEDULER}`, neverReady);
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    const id: string = res.json.operationId;

    const page = await pageFor(browser, "cancel");
    await page.goto(`${maestro.managementUrl}/ui/#/schedulers/${SCHEDULER}`);
    const cancel = page.locator(`[data-testid="operations-active"] [data-testid="cancel-${id}"]`);
    await cancel.waitFor({ timeout: 60_000 });
    // The versions panel shows what the active version changed from the one before it.
    await page.locator('[data-testid="version-diff"]').getByText("maxSurge").waitFor();
    expect(await page.locator('[data-testid="version-diff"] td.added').first().textContent()).toBe('"2"');
    await page.screenshot({ path: join(artifactsDir, "scheduler.png"), fullPage: true });
    await cancel.click();

    await page
      .locator('[data-testid="notice"]')
      .getByText(`Cancel requested for create_new_scheduler_version ${id}`)
      .waitFor();
    await page
      .locator(`[data-testid="operations-final"] tr[data-testid="operation-${id}"][data-status="canceled"]`)
      .waitFor({
        timeout: 60_000,
      });
    const op = (await api(maestro.managementUrl, "GET", `/schedulers/${SCHEDULER}/operations/${id}`)).json.operation;
    expect(op.status).toBe("canceled");
    // Its history opens from the row.
    await page.locator(`[data-testid="operations-final"] tr[data-testid="operation-${id}"] button`).first().click();
    await page.locator(`[data-testid="history-${id}"]`).getByText("canceled", { exact: false }).first().waitFor();
    expect(page.pageErrors).toEqual([]);
  });
});

describe("dashboard with management API tokens", () => {
  let maestro: MaestroProcess;
  let browser: TestBrowser;
  const writer = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(maestro.managementUrl + path, {
      method,
      headers: { authorization: "Bearer writer-token", "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: await res.json() };
  };

  beforeAll(async () => {
    maestro = await startMaestroProcess([
      "--set",
      "managementApi.readTokens=reader-token",
      "--set",
      "managementApi.writeTokens=writer-token",
      "--set",
      "rooms.validationTimeoutMs=300000",
    ]);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await maestro?.stop();
  });

  it("asks for a token, shows refusals in words, and gives actions to write tokens only", async () => {
    expect((await writer("POST", "/schedulers", schedulerBody({ roomsReplicas: 1 }))).status).toBe(200);
    const patched = await writer("PATCH", `/schedulers/${SCHEDULER}`, { maxSurge: "2" });
    expect(patched.status).toBe(200);
    await waitFor(
      async () =>
        (await writer("GET", `/schedulers/${SCHEDULER}/operations/${patched.json.operationId}`)).json.operation
          ?.status === "finished",
      "the minor version",
    );
    const neverReady = schedulerBody({
      roomsReplicas: 1,
      spec: {
        terminationGracePeriod: "5",
        containers: [container([process.execPath, "-e", "setInterval(() => {}, 1000)"])],
      },
    });
    const long = await writer("POST", `/schedulers/${SCHEDULER}`, neverReady);
    expect(long.status).toBe(200);
    const id: string = long.json.operationId;

    const page = await pageFor(browser, "tokens");
    await page.goto(`${maestro.managementUrl}/ui/#/schedulers/${SCHEDULER}`);
    await page.locator('[data-testid="error"]').getByText("a management API token is required").waitFor();
    await page.fill('[data-testid="token-input"]', "not-a-token");
    await page.press('[data-testid="token-input"]', "Enter");
    await page.locator('[data-testid="error"]').getByText("unknown management API token").waitFor();

    // A read token sees everything but no action button.
    await page.fill('[data-testid="token-input"]', "reader-token");
    await page.press('[data-testid="token-input"]', "Enter");
    await page.locator('[data-testid="role"]').getByText("read-only token").waitFor();
    await page
      .locator(`[data-testid="operations-active"] [data-testid="operation-${id}"]`)
      .waitFor({ timeout: 60_000 });
    await page.locator('[data-testid="versions"]').getByText("v1.0.0").waitFor();
    expect(await page.locator('[data-testid^="cancel-"]').count()).toBe(0);
    expect(await page.locator('[data-testid^="switch-"]').count()).toBe(0);
    expect(await page.locator('[data-testid="scale"]').count()).toBe(0);

    // The token is kept in the browser: a reload stays signed in.
    await page.reload();
    await page.locator('[data-testid="role"]').getByText("read-only token").waitFor();

    // A write token gets the cancel and switch buttons.
    await page.getByText("change token").click();
    await page.fill('[data-testid="token-input"]', "writer-token");
    await page.press('[data-testid="token-input"]', "Enter");
    await page.locator('[data-testid="role"]').getByText("write token").waitFor();
    await page.locator(`[data-testid="cancel-${id}"]`).click();
    await page
      .locator(`[data-testid="operations-final"] tr[data-testid="operation-${id}"][data-status="canceled"]`)
      .waitFor({ timeout: 60_000 });
    await page.locator('[data-testid="switch-v1.0.0"]').waitFor();

    // ...and may scale: the click enqueues add_rooms.
    await page.locator('[data-testid="scale"]').getByText("Add rooms").click();
    const notice = await page.locator('[data-testid="notice"]').getByText("Adding 1 room: operation").textContent();
    const addId = /operation ([\w-]+)\./.exec(notice ?? "")?.[1];
    const added = await writer("GET", `/schedulers/${SCHEDULER}/operations/${addId}`);
    expect(added.json.operation.definitionName).toBe("add_rooms");
    expect(page.pageErrors).toEqual([]);
  });
});
