import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { eventually, startTestMaestro, type TestMaestro } from "../../server/test/support/test-maestro.js";
import { pingingRoomCommand } from "./support/pinging-room.js";
import { fixture, runCli } from "./support/run-cli.js";

let maestro: TestMaestro;
let cli: (...args: string[]) => ReturnType<typeof runCli>;

beforeAll(async () => {
  // Allocation needs a matchmaker token here, as on an exposed rooms API.
  maestro = await startTestMaestro({ "roomsApi.matchmakerTokens": "cli-matchmaker" });
  cli = (...args) => runCli(["--url", maestro.managementUrl, "--rooms-url", maestro.roomsUrl, ...args]);
});

afterAll(async () => {
  await maestro?.stop();
});

describe("maestroctl", () => {
  it("prints help for the program and for commands", async () => {
    const top = await runCli(["--help"]);
    expect(top.code).toBe(0);
    for (const noun of ["schedulers", "operations", "rooms", "allocate", "apply"]) expect(top.stdout).toContain(noun);
    expect(top.stdout).toContain("--output <format>");
    const apply = await runCli(["schedulers", "apply", "--help"]);
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain("-f, --file <file>");
    expect(apply.stdout).toContain("--no-wait");
    const scale = await runCli(["schedulers", "scale", "--help"]);
    expect(scale.stdout).toContain("--add <n>");
  });

  it("exits 2 on usage errors", async () => {
    const unknown = await runCli(["frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^maestroctl: unknown command 'frobnicate'/);
    const missing = await runCli(["schedulers", "apply"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--file");
    const badOutput = await runCli(["schedulers", "list", "-o", "xml"]);
    expect(badOutput.code).toBe(2);
    const notANumber = await runCli(["schedulers", "scale", "x", "--add", "many"]);
    expect(notANumber.code).toBe(2);
    expect(notANumber.stderr).toContain("positive integer");
  });

  it("applies a JSON file, waits for create_scheduler and prints the operation as JSON", async () => {
    const res = await cli("apply", "-f", fixture("scheduler.json"), "-o", "json");
    expect(res.stderr).toMatch(/create_scheduler finished/);
    expect(res.code).toBe(0);
    const op = JSON.parse(res.stdout);
    expect(op).toMatchObject({ definitionName: "create_scheduler", status: "finished", schedulerName: "cli-json" });
  });

  it("shows schedulers as aligned tables, JSON and YAML", async () => {
    const table = await cli("schedulers", "list");
    expect(table.code).toBe(0);
    const [header, ...rows] = table.stdout.trimEnd().split("\n");
    expect(header).toMatch(/^NAME\s+GAME\s+STATE\s+VERSION\s+REPLICAS/);
    const row = rows.find((r) => r.startsWith("cli-json"));
    expect(row).toBeDefined();
    expect(row?.indexOf("cli-game")).toBe(header?.indexOf("GAME"));
    expect(row?.indexOf("in-sync")).toBe(header?.indexOf("STATE"));
    expect(row?.indexOf("v1.0.0")).toBe(header?.indexOf("VERSION"));
    expect(table.stdout).not.toContain("\x1b["); // NO_COLOR

    const json = await cli("schedulers", "get", "cli-json", "-o", "json");
    const s = JSON.parse(json.stdout);
    expect(s).toMatchObject({
      name: "cli-json",
      roomsReplicas: 1,
      spec: { version: "v1.0.0", terminationGracePeriod: "2s" },
    });

    const yaml = await cli("-o", "yaml", "schedulers", "get", "cli-json");
    expect(parse(yaml.stdout)).toMatchObject({ name: "cli-json", game: "cli-game" });

    const info = await cli("schedulers", "info", "--game", "cli-game");
    expect(info.stdout).toMatch(/^NAME\s+GAME\s+STATE\s+REPLICAS\s+READY\s+OCCUPIED/);
    expect(info.stdout).toContain("cli-json");

    const detail = await cli("schedulers", "get", "cli-json");
    expect(detail.stdout).toMatch(/Name:\s+cli-json/);
    expect(detail.stdout).toMatch(/Container 0:\s+room image=local/);
  });

  it("applies an existing scheduler from stdin as a new version", async () => {
    const doc = JSON.parse(await readFile(fixture("scheduler.json"), "utf8"));
    doc.roomsReplicas = 2;
    const res = await runCli(["--url", maestro.managementUrl, "schedulers", "apply", "-f", "-"], {
      input: JSON.stringify(doc),
    });
    expect(res.stderr).toMatch(/create_new_scheduler_version finished/);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^create_new_scheduler_version \S+ finished$/m);
    const versions = await cli("schedulers", "versions", "cli-json", "-o", "json");
    expect(JSON.parse(versions.stdout).map((v: { version: string }) => v.version)).toEqual(["v1.1.0", "v1.0.0"]);

    // The same file again is a no-op, as with kubectl apply.
    const again = await runCli(["--url", maestro.managementUrl, "schedulers", "apply", "-f", "-"], {
      input: JSON.stringify(doc),
    });
    expect(again.stderr).toBe("");
    expect(again.code).toBe(0);
    expect(again.stdout).toBe("scheduler cli-json unchanged (active version v1.1.0); no new version\n");

    // What `get -o yaml` prints applies back as it is: its output-only fields are named and left out, not refused.
    const shown = await cli("-o", "yaml", "schedulers", "get", "cli-json");
    expect(parse(shown.stdout)).toHaveProperty("state");
    const roundTrip = await runCli(["--url", maestro.managementUrl, "schedulers", "apply", "-f", "-"], {
      input: shown.stdout,
    });
    expect(roundTrip.code, roundTrip.stderr).toBe(0);
    expect(roundTrip.stderr).toMatch(/^maestroctl: ignoring output-only fields of a scheduler: state, createdAt\b/m);
    expect(roundTrip.stdout).toBe("scheduler cli-json unchanged (active version v1.1.0); no new version\n");
    // A typo is still refused, with the nearest field named.
    const typo = await runCli(["--url", maestro.managementUrl, "schedulers", "apply", "-f", "-"], {
      input: JSON.stringify({ ...doc, roomReplicas: 3 }),
    });
    expect(typo.code).not.toBe(0);
    expect(typo.stderr).toContain("roomsReplicas");
    const after = await cli("schedulers", "versions", "cli-json", "-o", "json");
    expect(JSON.parse(after.stdout).map((v: { version: string }) => v.version)).toEqual(["v1.1.0", "v1.0.0"]);
  });

  it("converts and applies a Maestro v9 YAML, reporting what did not map", async () => {
    const res = await cli(
      "apply",
      "-f",
      fixture("v9-scheduler.yaml"),
      "--forwarder-address",
      "matchmaker=127.0.0.1:9",
      "-o",
      "json",
    );
    expect(res.stderr).toContain("is a Maestro v9 config");
    expect(res.stderr).not.toMatch(/not mapped: autoscaling/);
    expect(res.stderr).toContain("not mapped: authorizedUsers");
    expect(res.stderr).toMatch(/portRange absent: using 40000-49999/);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ definitionName: "create_scheduler", status: "finished" });

    const got = JSON.parse((await cli("schedulers", "get", "cli-v9", "-o", "json")).stdout);
    expect(got).toMatchObject({
      name: "cli-v9",
      roomsReplicas: 1,
      occupiedTimeout: "300",
      portRange: { start: 40000, end: 49999 },
      spec: {
        terminationGracePeriod: "3s",
        toleration: "dedicated-gameservers",
        containers: [{ image: "local", ports: [{ name: "game", protocol: "udp", port: 7000 }] }],
      },
      forwarders: [{ name: "matchmaker", type: "gRPC", address: "127.0.0.1:9", enable: true }],
    });
    expect(got.spec.containers[0].environment).toEqual([{ name: "GAME_MODE", value: "ranked" }]);
    const shown = (await cli("schedulers", "get", "cli-v9")).stdout;
    expect(shown).toMatch(/Autoscaling:\s+metricsTriggers min 1 max 10/);
    expect(shown).toMatch(/Scale up:\s+room 70% for 80% of 600s limit 90% \(cooldown 300s\)/);
    expect(shown).toMatch(/Scale down:\s+room 50% for 80% of 900s \(cooldown 300s\)/);
    // v9's autoscaling is kept: the room triggers drive the fleet through metricsTriggers.
    expect(got.autoscaling).toMatchObject({
      enabled: true,
      min: 1,
      max: 10,
      policy: {
        type: "metricsTriggers",
        parameters: {
          metricsTriggers: {
            up: { cooldown: 300, triggers: [{ type: "room", usage: 70, threshold: 80, time: 600, limit: 90 }] },
            down: { cooldown: 300, triggers: [{ type: "room", usage: 50, threshold: 80, time: 900 }] },
          },
        },
      },
    });

    const again = await cli(
      "apply",
      "-f",
      fixture("v9-scheduler.yaml"),
      "--forwarder-address",
      "matchmaker=127.0.0.1:9",
    );
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe("scheduler cli-v9 unchanged (active version v1.0.0); no new version\n");
  });

  it("exits 2 naming the field when the input is invalid", async () => {
    const server = await cli("schedulers", "create", "-f", fixture("invalid-scheduler.json"));
    expect(server.code).toBe(2);
    expect(server.stderr).toContain("spec.containers[0].ports[0].protocol");

    const dir = await mkdtemp(join(tmpdir(), "maestroctl-"));
    try {
      const v9 = (await readFile(fixture("v9-scheduler.yaml"), "utf8")).replace("name: cli-v9", "name: cli-v9-noaddr");
      await writeFile(join(dir, "v9.yaml"), v9);
      const noAddress = await cli("apply", "-f", join(dir, "v9.yaml"));
      expect(noAddress.code).toBe(2);
      expect(noAddress.stderr).toContain("forwarders.grpc.matchmaker: an address");
      expect(noAddress.stderr).toContain("forwarders[0].address");

      await writeFile(join(dir, "typo.yaml"), "name: x\ngame: g\nroomReplicas: 3\nspec: {}\n");
      const typo = await cli("apply", "-f", join(dir, "typo.yaml"));
      expect(typo.code).toBe(2);
      expect(typo.stderr).toBe(
        "maestroctl: invalid scheduler: unknown field roomReplicas; did you mean roomsReplicas?\n",
      );

      await writeFile(join(dir, "broken.yaml"), "name: [unclosed\n");
      const broken = await cli("apply", "-f", join(dir, "broken.yaml"));
      expect(broken.code).toBe(2);
      expect(broken.stderr).toContain("broken.yaml");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("fails with exit 1 and the server's message for an unknown scheduler", async () => {
    const res = await cli("schedulers", "get", "no-such-scheduler");
    expect(res.code).toBe(1);
    expect(res.stderr).toBe("maestroctl: scheduler no-such-scheduler not found\n");
    expect(res.stdout).toBe("");
  });

  it("hints at the address when Maestro is not reachable", async () => {
    const res = await runCli(["schedulers", "list"], { env: { MAESTRO_URL: "http://127.0.0.1:1" } });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("hint: is Maestro running at http://127.0.0.1:1?");
  });

  it("hints at the rooms API address when allocate cannot reach it", async () => {
    const res = await runCli(["allocate", "my-game"], {
      env: { MAESTRO_URL: "http://127.0.0.1:1", MAESTRO_ROOMS_URL: "http://127.0.0.1:2" },
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("hint: is Maestro running at http://127.0.0.1:2?");
  });

  it("scales, lists rooms and operations, patches and follows operations", async () => {
    const usage = await cli("schedulers", "scale", "cli-json");
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("exactly one of --add N or --remove N");

    const scale = await cli("schedulers", "scale", "cli-json", "--add", "1", "--no-wait", "-o", "json");
    expect(scale.code).toBe(0);
    const { operationId } = JSON.parse(scale.stdout);
    const watch = await cli("operations", "watch", "cli-json", operationId);
    expect(watch.code).toBe(0);
    expect(watch.stdout).toBe(`add_rooms ${operationId} finished\n`);

    const got = await cli("operations", "get", "cli-json", operationId);
    expect(got.stdout).toMatch(/Definition:\s+add_rooms/);
    expect(got.stdout).toContain("History:");
    const list = await cli("operations", "list", "cli-json", "--stage", "final", "-o", "json");
    expect(JSON.parse(list.stdout).map((o: { id: string }) => o.id)).toContain(operationId);

    const rooms = await cli("rooms", "list", "cli-json", "-o", "json");
    const ids: string[] = JSON.parse(rooms.stdout).map((r: { id: string }) => r.id);
    expect(ids.length).toBeGreaterThanOrEqual(1);
    const room = await cli("rooms", "get", "cli-json", ids[0] ?? "");
    expect(room.stdout).toMatch(new RegExp(`ID:\\s+${ids[0]}`));
    // The process runtime measures every room; the share is against the spec's requests.
    expect(room.stdout).toMatch(/CPU:\s+\d+m \(\d+% of \d+m requested\)/);
    expect(room.stdout).toMatch(/Memory:\s+[\d.]+(Ki|Mi|Gi) \(\d+% of [\d.]+Mi requested\)/);
    const roomJson = JSON.parse((await cli("rooms", "get", "cli-json", ids[0] ?? "", "-o", "json")).stdout);
    expect(roomJson.usage).toMatchObject({ cpuRequestMillicores: expect.any(Number), memoryBytes: expect.any(Number) });
    expect(roomJson.usage.memoryBytes).toBeGreaterThan(0);
    const roomsTable = await cli("rooms", "list", "cli-json");
    expect(roomsTable.stdout).toMatch(/^ID\s+STATUS\s+PING\s+MATCHES\s+VERSION\s+HOST\s+PORTS\s+CPU\s+MEMORY/);

    // The README says "kill one (`kill <pid>`)": the pid is in `rooms get` and `rooms list -o wide`.
    const pid = await eventually(async () => {
      const r = JSON.parse((await cli("rooms", "get", "cli-json", ids[0] ?? "", "-o", "json")).stdout);
      return r.pids?.[0] as number | undefined;
    });
    expect(await readFile(`/proc/${pid}/environ`, "utf8")).toContain(`MAESTRO_ROOM_ID=${ids[0]}`);
    expect((await cli("rooms", "get", "cli-json", ids[0] ?? "")).stdout).toMatch(new RegExp(`PID:\\s+${pid}\n`));
    const wide = (await cli("rooms", "list", "cli-json", "-o", "wide")).stdout;
    expect(wide).toMatch(
      /^ID\s+STATUS\s+PING\s+MATCHES\s+VERSION\s+HOST\s+PORTS\s+CPU\s+MEMORY\s+PID\s+INSTANCE\s+AGE\n/,
    );
    expect(wide).toMatch(new RegExp(`^${ids[0]}\\s.*\\s${pid}\\s+\\w+\\s+\\S+$`, "m"));

    const badSet = await cli("schedulers", "patch", "cli-json", "--set", "image=x");
    expect(badSet.code).toBe(2);
    const patch = await cli("schedulers", "patch", "cli-json", "--set", "maxSurge=3", "--set", "roomsReplicas=0");
    expect(patch.code).toBe(0);
    expect(patch.stdout).toMatch(/^create_new_scheduler_version \S+ finished$/m);
    const after = JSON.parse((await cli("schedulers", "get", "cli-json", "-o", "json")).stdout);
    expect(after).toMatchObject({ maxSurge: "3", roomsReplicas: 0 });

    const sw = await cli("schedulers", "switch", "cli-json", "v1.0.0");
    expect(sw.code).toBe(0);
    expect(sw.stdout).toMatch(/^switch_active_version \S+ finished$/m);
  });

  it("cancels an operation and exits 0 once it is canceled", async () => {
    // A new command is a major version: it waits for a validation room that never becomes ready here.
    const doc = JSON.parse(await readFile(fixture("scheduler.json"), "utf8"));
    doc.spec.containers[0].command = ["node", "-e", "setInterval(() => {}, 1500)"];
    const started = await runCli(["--url", maestro.managementUrl, "apply", "-f", "-", "--no-wait", "-o", "json"], {
      input: JSON.stringify(doc),
    });
    expect(started.code).toBe(0);
    const { operationId } = JSON.parse(started.stdout);
    const res = await cli("operations", "cancel", "cli-json", operationId);
    expect(res.code).toBe(0);
    expect(res.stdout).toBe(`create_new_scheduler_version ${operationId} canceled\n`);
    const watch = await cli("operations", "watch", "cli-json", operationId);
    expect(watch.code).toBe(1);
    expect(watch.stderr).toContain(
      `maestroctl: operation ${operationId} (create_new_scheduler_version) ended canceled`,
    );
  });

  it("deletes a scheduler, waiting until the operation finished", async () => {
    const res = await cli("schedulers", "delete", "cli-v9");
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^delete_scheduler \S+ finished$/m);
    expect(res.stderr).toMatch(/delete_scheduler (pending|in_progress|finished)/);
    const gone = await cli("schedulers", "get", "cli-v9");
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("not found");
  });

  it("allocates a ready room and fails with exit 1 when none is left", async () => {
    const doc = JSON.parse(await readFile(fixture("scheduler.json"), "utf8"));
    doc.name = "cli-alloc";
    doc.spec.containers[0].command = pingingRoomCommand;
    const applied = await runCli(["--url", maestro.managementUrl, "apply", "-f", "-"], { input: JSON.stringify(doc) });
    expect(applied.code).toBe(0);
    const readyId = await eventually(
      async () => {
        const res = await cli("rooms", "list", "cli-alloc", "--status", "ready", "-o", "json");
        return JSON.parse(res.stdout)[0]?.id as string | undefined;
      },
      { what: "a ready room", timeoutMs: 30_000 },
    );
    const anonymous = await cli("allocate", "cli-alloc");
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toContain("roomsApi.matchmakerTokens");
    const res = await cli("--matchmaker-token", "cli-matchmaker", "allocate", "cli-alloc");
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(new RegExp(`Room:\\s+${readyId}`));
    expect(res.stdout).toMatch(/Ports:\s+game:\d+\/tcp/);
    const none = await runCli(
      ["--url", maestro.managementUrl, "--rooms-url", maestro.roomsUrl, "allocate", "cli-alloc"],
      {
        env: { MAESTRO_MATCHMAKER_TOKEN: "cli-matchmaker" },
      },
    );
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^maestroctl: .*no ready room/);
  });

  it("apply --wait-ready fails fast when rooms crash, with the reason and the end of the room's log", async () => {
    const doc = JSON.parse(await readFile(fixture("scheduler.json"), "utf8"));
    doc.name = "cli-crash";
    doc.roomsReplicas = 2;
    doc.spec.containers[0].command = [
      "node",
      "-e",
      "console.log('booting'); console.error(\"Error: Cannot find module '/srv/gmae.js'\"); process.exit(1)",
    ];
    const res = await runCli(["--url", maestro.managementUrl, "apply", "-f", "-", "--wait-ready"], {
      input: JSON.stringify(doc),
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(
      /maestroctl: rooms of cli-crash keep crashing: \d+ rooms crashed; last (cli-crash-\S+): exit code 1: Error: Cannot find module '\/srv\/gmae.js'/,
    );
    const room = /last (cli-crash-\S+):/.exec(res.stderr)?.[1] ?? "";
    expect(res.stderr).toContain(`last 20 lines of ${room}'s log:\n  booting\n`);
    expect(res.stderr).toContain(`(maestroctl rooms logs cli-crash ${room} shows more)`);

    const logs = await cli("rooms", "logs", "cli-crash", room, "--tail", "1");
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toBe("Error: Cannot find module '/srv/gmae.js'\n");
    expect((await cli("schedulers", "list")).stdout).toMatch(/^cli-crash\s+cli-game\s+in-sync, rooms crashing\s/m);
    expect((await cli("schedulers", "get", "cli-crash")).stdout).toMatch(/Rooms crashing:\s+\d+ rooms crashed; last /);
    expect((await cli("schedulers", "delete", "cli-crash")).code).toBe(0);
  });

  it("reads url and token from a profile", async () => {
    const home = await mkdtemp(join(tmpdir(), "maestroctl-home-"));
    try {
      await mkdir(join(home, ".config", "maestro"), { recursive: true });
      await writeFile(
        join(home, ".config", "maestro", "config.yaml"),
        `profiles:\n  local:\n    url: ${maestro.managementUrl}\n    roomsUrl: ${maestro.roomsUrl}\n  down:\n    url: http://127.0.0.1:1\n`,
      );
      const ok = await runCli(["--profile", "local", "schedulers", "list", "-o", "json"], { env: { HOME: home } });
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.stdout).map((s: { name: string }) => s.name)).toContain("cli-json");
      const down = await runCli(["schedulers", "list"], { env: { HOME: home, MAESTRO_PROFILE: "down" } });
      expect(down.code).toBe(1);
      expect(down.stderr).toContain("http://127.0.0.1:1");
      const missing = await runCli(["--profile", "nope", "schedulers", "list"], { env: { HOME: home } });
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('profile "nope" not found');
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
