import type { JsonValue } from "@bufbuild/protobuf";
import { AllocateRoomResponseSchema, type Operation, OperationSchema } from "@maestro/proto";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import type { MaestroClient } from "../client.js";
import { MaestroClientError } from "../errors.js";
import { createMaestroClient } from "../node-client.js";
import { patchFromJson, schedulerFromJson, withoutOutputOnlyFields } from "../scheduler-json.js";
import { convertV9Scheduler, isV9Scheduler } from "../v9-convert.js";
import { readDocument } from "./input-file.js";
import { messageJson, renderFields, type Style, styleFor, writeStructured } from "./output.js";
import { ProgressDisplay } from "./progress.js";
import { waitForReadyRooms } from "./ready-rooms.js";
import {
  operationListView,
  operationView,
  roomListView,
  roomView,
  schedulerInfoView,
  schedulerListView,
  schedulerView,
  type View,
  versionsView,
} from "./render.js";
import { resolveSettings, type Settings } from "./settings.js";
import { UsageError } from "./usage-error.js";

export interface CliIo {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

interface Ctx {
  settings: Settings;
  client: MaestroClient;
  out: Style;
  err: Style;
  io: CliIo;
  signal: AbortSignal;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a positive integer");
  return n;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function keyValues(pairs: string[] | undefined, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const i = pair.indexOf("=");
    if (i <= 0) throw new UsageError(`${flag} expects key=value (got "${pair}")`);
    out[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return out;
}

/** Settable with `patch --set`: the simple top-level fields a patch can replace. */
const settable: Record<string, (v: string) => unknown> = {
  roomsReplicas: (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`--set roomsReplicas must be an integer ≥ 0 (got "${v}")`);
    return n;
  },
  maxSurge: (v) => v,
  occupiedTimeout: (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`--set occupiedTimeout must be seconds ≥ 0 (got "${v}")`);
    return n;
  },
};

/** Which API the running command talks to, so a connection hint names the right address. */
export interface CliTarget {
  api: "management" | "rooms";
}

export function buildProgram(io: CliIo, signal: AbortSignal, target: CliTarget = { api: "management" }): Command {
  const program = new Command("maestroctl");
  program
    .description("Manage Maestro schedulers, operations and game rooms")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(`maestroctl: ${s.replace(/^error: /, "")}`),
    })
    .showSuggestionAfterError()
    .addOption(new Option("--url <url>", "management API address (env MAESTRO_URL, default http://127.0.0.1:8080)"))
    .addOption(
      new Option("--rooms-url <url>", "rooms API address (env MAESTRO_ROOMS_URL, default http://127.0.0.1:8070)"),
    )
    .addOption(new Option("--token <token>", "bearer token (env MAESTRO_TOKEN)"))
    .addOption(
      new Option(
        "--matchmaker-token <token>",
        "rooms API matchmaker token for allocate (env MAESTRO_MATCHMAKER_TOKEN; server: roomsApi.matchmakerTokens)",
      ),
    )
    .addOption(new Option("--profile <name>", "profile from ~/.config/maestro/config.yaml (env MAESTRO_PROFILE)"))
    .addOption(
      new Option("-o, --output <format>", "output format").choices(["table", "wide", "json", "yaml"]).default("table"),
    );

  const context = async (cmd: Command): Promise<Ctx> => {
    const settings = await resolveSettings(cmd.optsWithGlobals(), io.env);
    const client = createMaestroClient({
      baseUrl: settings.url,
      token: settings.token,
      roomsApiUrl: settings.roomsUrl,
      ...(settings.matchmakerToken ? { matchmakerToken: settings.matchmakerToken } : {}),
    });
    return { settings, client, out: styleFor(io.stdout, io.env), err: styleFor(io.stderr, io.env), io, signal };
  };
  const show = (c: Ctx, view: View) => {
    const format = c.settings.output;
    if (format === "wide") return c.io.stdout.write((view.wide ?? view.table)(c.out));
    c.io.stdout.write(format === "table" ? view.table(c.out) : writeStructured(format, view.json));
  };
  const showValue = (c: Ctx, json: JsonValue, line: string) => {
    const format = c.settings.output;
    c.io.stdout.write(format === "table" || format === "wide" ? `${line}\n` : writeStructured(format, json));
  };
  /** Waits for an enqueued operation (unless --no-wait) and prints its outcome. */
  const follow = async (c: Ctx, scheduler: string, operationId: string, wait: boolean, accept: string[] = []) => {
    if (!wait) return showValue(c, { operationId }, `operation ${operationId} enqueued`);
    const progress = new ProgressDisplay(c.io.stderr, c.err);
    let op: Operation;
    try {
      op = await c.client.waitForOperation(scheduler, operationId, {
        onProgress: (o) => progress.update(o),
        signal: c.signal,
      });
    } catch (err) {
      progress.stop();
      if (err instanceof MaestroClientError && err.operation && accept.includes(err.operation.status)) {
        op = err.operation;
        return showValue(
          c,
          messageJson(OperationSchema, op),
          `${op.definitionName} ${op.id} ${c.out.status(op.status)}`,
        );
      }
      if (err instanceof MaestroClientError && err.code === "canceled" && !err.operation) {
        throw new MaestroClientError(
          "canceled",
          `stopped waiting; operation ${operationId} goes on (maestroctl operations watch ${scheduler} ${operationId})`,
        );
      }
      throw err;
    }
    progress.stop();
    showValue(c, messageJson(OperationSchema, op), `${op.definitionName} ${op.id} ${c.out.status(op.status)}`);
  };
  const action =
    <A extends unknown[]>(fn: (c: Ctx, ...args: A) => Promise<void>) =>
    async (...args: unknown[]) => {
      const cmd = args[args.length - 1] as Command;
      await fn(await context(cmd), ...(args as A));
    };

  /** Reads a scheduler file, converting a v9 config and reporting what did not map. */
  const readScheduler = async (c: Ctx, file: string, forwarderAddress: string[] | undefined) => {
    let doc = await readDocument(file);
    if (isV9Scheduler(doc)) {
      const conv = convertV9Scheduler(doc, { forwarderAddresses: keyValues(forwarderAddress, "--forwarder-address") });
      const lines = [
        `maestroctl: ${file} is a Maestro v9 config; converted to the current model`,
        ...conv.notes.map((n) => `  note: ${n}`),
        ...conv.unmapped.map((u) => `  not mapped: ${u.key}: ${u.reason}`),
      ];
      c.io.stderr.write(`${lines.join("\n")}\n`);
      doc = conv.scheduler;
    }
    const { json, dropped } = withoutOutputOnlyFields(doc);
    if (dropped.length > 0)
      c.io.stderr.write(`maestroctl: ignoring output-only fields of a scheduler: ${dropped.join(", ")}\n`);
    return schedulerFromJson(json);
  };

  const createAndFollow = async (c: Ctx, def: ReturnType<typeof schedulerFromJson>, wait: boolean) => {
    const created = await c.client.schedulers.create(def, { signal: c.signal });
    if (!wait) return show(c, schedulerView(created));
    const op = await c.client.findOperation(created.name, "create_scheduler", { signal: c.signal });
    if (!op) return show(c, schedulerView(created));
    await follow(c, created.name, op.id, true);
  };

  const fileOptions = (cmd: Command) =>
    cmd
      .requiredOption("-f, --file <file>", "scheduler definition, YAML or JSON (Maestro v9 YAML too); - for stdin")
      .option("--forwarder-address <name=host:port>", "address of a v9 gRPC forwarder (repeatable)", collect)
      .option("--no-wait", "return once the operation is enqueued")
      .option("--wait-ready", "then show a progress bar of the rooms coming up, until every replica is ready");

  const schedulers = program
    .command("schedulers")
    .alias("scheduler")
    .description("list, inspect and change schedulers");

  schedulers
    .command("list")
    .description("list schedulers")
    .option("--game <game>", "only schedulers of this game")
    .action(
      action(async (c, o: { game?: string }) => {
        show(c, schedulerListView(await c.client.schedulers.list({ game: o.game }, { signal: c.signal })));
      }),
    );

  schedulers
    .command("get <name>")
    .description("show a scheduler (its active version, or --version)")
    .option("--version <version>", "a specific version, e.g. v1.0.0")
    .action(
      action(async (c, name: string, o: { version?: string }) => {
        show(c, schedulerView(await c.client.schedulers.get(name, { version: o.version, signal: c.signal })));
      }),
    );

  schedulers
    .command("info")
    .description("room counts per scheduler")
    .option("--game <game>", "only schedulers of this game")
    .action(
      action(async (c, o: { game?: string }) => {
        show(c, schedulerInfoView(await c.client.schedulers.info(o.game, { signal: c.signal })));
      }),
    );

  type FileOpts = { file: string; forwarderAddress?: string[]; wait: boolean; waitReady?: boolean };
  /** With --wait-ready, after the operation: a progress bar of the rooms coming up, until all replicas are. */
  const afterOperation = async (c: Ctx, def: { name: string; game: string }, o: FileOpts) => {
    if (!o.waitReady || !o.wait) return;
    await waitForReadyRooms(c.client, def, { stream: c.io.stderr, style: c.err }, c.signal);
  };

  fileOptions(schedulers.command("create").description("create a scheduler from a file")).action(
    action(async (c, o: FileOpts) => {
      const def = await readScheduler(c, o.file, o.forwarderAddress);
      await createAndFollow(c, def, o.wait);
      await afterOperation(c, def, o);
    }),
  );

  const applyCommand = (cmd: Command) =>
    fileOptions(cmd.description("create the scheduler in a file, or add it as a new version if it exists")).action(
      action(async (c, o: FileOpts) => {
        const def = await readScheduler(c, o.file, o.forwarderAddress);
        try {
          await c.client.schedulers.get(def.name, { signal: c.signal });
        } catch (err) {
          if (err instanceof MaestroClientError && err.code === "not_found") {
            await createAndFollow(c, def, o.wait);
            return afterOperation(c, def, o);
          }
          throw err;
        }
        let operationId: string;
        try {
          operationId = await c.client.schedulers.newVersion(def, { signal: c.signal });
        } catch (err) {
          // The server refuses a definition identical to the active version: nothing to do, as kubectl says.
          if (!(err instanceof MaestroClientError && err.code === "already_exists")) throw err;
          const active = await c.client.schedulers.get(def.name, { signal: c.signal });
          const version = active.spec?.version ?? "";
          showValue(
            c,
            { schedulerName: def.name, unchanged: true, activeVersion: version },
            `scheduler ${def.name} unchanged (active version ${version}); no new version`,
          );
          return afterOperation(c, def, o);
        }
        await follow(c, def.name, operationId, o.wait);
        await afterOperation(c, def, o);
      }),
    );
  applyCommand(schedulers.command("apply"));

  schedulers
    .command("patch <name>")
    .description("change some fields of the active version (a new version)")
    .option("-f, --file <file>", "patch document, YAML or JSON (fields of PATCH /schedulers/{name}); - for stdin")
    .option("--set <key=value>", `set a simple field (${Object.keys(settable).join(", ")}); repeatable`, collect)
    .option("--no-wait", "return once the operation is enqueued")
    .action(
      action(async (c, name: string, o: { file?: string; set?: string[]; wait: boolean }) => {
        const doc: Record<string, unknown> = o.file ? ((await readDocument(o.file)) as Record<string, unknown>) : {};
        for (const [key, value] of Object.entries(keyValues(o.set, "--set"))) {
          const parse = settable[key];
          if (!parse) throw new UsageError(`--set ${key}: only ${Object.keys(settable).join(", ")} can be set`);
          doc[key] = parse(value);
        }
        if (Object.keys(doc).length === 0) throw new UsageError("nothing to patch: give -f <file> or --set key=value");
        const patch = patchFromJson(name, doc);
        await follow(c, name, await c.client.schedulers.patch(name, patch, { signal: c.signal }), o.wait);
      }),
    );

  schedulers
    .command("versions <name>")
    .description("list the versions of a scheduler, newest first")
    .action(
      action(async (c, name: string) => {
        show(c, versionsView(await c.client.schedulers.versions(name, { signal: c.signal })));
      }),
    );

  schedulers
    .command("switch <name> <version>")
    .description("make another version the active one")
    .option("--no-wait", "return once the operation is enqueued")
    .action(
      action(async (c, name: string, version: string, o: { wait: boolean }) => {
        await follow(
          c,
          name,
          await c.client.schedulers.switchActiveVersion(name, version, { signal: c.signal }),
          o.wait,
        );
      }),
    );

  schedulers
    .command("delete <name>")
    .description("delete a scheduler and stop its rooms")
    .option("--no-wait", "return once the operation is enqueued")
    .action(
      action(async (c, name: string, o: { wait: boolean }) => {
        await follow(c, name, await c.client.schedulers.delete(name, { signal: c.signal }), o.wait);
      }),
    );

  schedulers
    .command("scale <name>")
    .description("add or remove rooms")
    .option("--add <n>", "rooms to add", positiveInt)
    .option("--remove <n>", "rooms to remove", positiveInt)
    .option("--no-wait", "return once the operation is enqueued")
    .action(
      action(async (c, name: string, o: { add?: number; remove?: number; wait: boolean }) => {
        if ((o.add === undefined) === (o.remove === undefined))
          throw new UsageError("give exactly one of --add N or --remove N");
        const id =
          o.add !== undefined
            ? await c.client.schedulers.addRooms(name, o.add, { signal: c.signal })
            : await c.client.schedulers.removeRooms(name, o.remove ?? 0, { signal: c.signal });
        await follow(c, name, id, o.wait);
      }),
    );

  // kubectl habit: `maestroctl apply -f file`.
  applyCommand(program.command("apply"));

  const operations = program.command("operations").alias("ops").description("follow and cancel operations");

  operations
    .command("list <scheduler>")
    .description("list operations (all stages, or --stage; final shows the newest page)")
    .addOption(new Option("--stage <stage>", "only this stage").choices(["pending", "active", "final"]))
    .action(
      action(async (c, scheduler: string, o: { stage?: "pending" | "active" | "final" }) => {
        const stages = o.stage ? [o.stage] : (["pending", "active", "final"] as const);
        const items = [];
        for (const stage of stages) {
          items.push(...(await c.client.operations.list(scheduler, { stage }, { signal: c.signal })).operations);
        }
        show(c, operationListView(items));
      }),
    );

  operations
    .command("get <scheduler> <id>")
    .description("show an operation with its history")
    .action(
      action(async (c, scheduler: string, id: string) => {
        show(c, operationView(await c.client.operations.get(scheduler, id, { signal: c.signal })));
      }),
    );

  operations
    .command("cancel <scheduler> <id>")
    .description("cancel a pending or running operation")
    .option("--no-wait", "return once the cancel is requested")
    .action(
      action(async (c, scheduler: string, id: string, o: { wait: boolean }) => {
        await c.client.operations.cancel(scheduler, id, { signal: c.signal });
        if (!o.wait) return showValue(c, { operationId: id, canceled: true }, `operation ${id} cancel requested`);
        // The operation ending canceled is what was asked for.
        await follow(c, scheduler, id, true, ["canceled"]);
      }),
    );

  operations
    .command("watch <scheduler> <id>")
    .description("follow an operation until it ends")
    .action(
      action(async (c, scheduler: string, id: string) => {
        await follow(c, scheduler, id, true);
      }),
    );

  const rooms = program.command("rooms").alias("room").description("list and inspect game rooms");

  rooms
    .command("list <scheduler>")
    .description("list the rooms of a scheduler")
    .option("--status <status>", "only rooms with this status (ready, occupied, pending, ...)")
    .action(
      action(async (c, scheduler: string, o: { status?: string }) => {
        show(c, roomListView(await c.client.rooms.list(scheduler, { status: o.status, signal: c.signal })));
      }),
    );

  rooms
    .command("logs <scheduler> <id>")
    .description("print the end of a room's log (kept for the last few rooms that crashed)")
    .option("--tail <lines>", "lines from the end", positiveInt, 100)
    .action(
      action(async (c, scheduler: string, id: string, o: { tail: number }) => {
        const res = await c.client.rooms.log(scheduler, id, { tailLines: o.tail, signal: c.signal });
        if (res.crashed) c.io.stderr.write(`maestroctl: room ${id} crashed; this is the log kept of it\n`);
        c.io.stdout.write(res.log);
      }),
    );

  rooms
    .command("get <scheduler> <id>")
    .description("show a room")
    .action(
      action(async (c, scheduler: string, id: string) => {
        show(c, roomView(await c.client.rooms.get(scheduler, id, { signal: c.signal })));
      }),
    );

  program
    .command("allocate <scheduler>")
    .description("hand out a ready room (rooms API)")
    .option("--selector <key=value>", "only rooms whose metadata has this pair (repeatable)", collect)
    .action(
      action(async (c, scheduler: string, o: { selector?: string[] }) => {
        target.api = "rooms";
        const res = await c.client.allocateRoom(
          scheduler,
          { metadataSelector: keyValues(o.selector, "--selector") },
          { signal: c.signal },
        );
        if (!res.success) throw new MaestroClientError("resource_exhausted", res.message || "no room allocated");
        const format = c.settings.output;
        const ports = res.ports.map((p) => `${p.name}:${p.port}/${p.protocol}`).join(",");
        c.io.stdout.write(
          format === "table" || format === "wide"
            ? renderFields(
                [
                  ["Room", res.roomId],
                  ["Host", res.host],
                  ["Ports", ports],
                ],
                c.out,
              )
            : writeStructured(format, messageJson(AllocateRoomResponseSchema, res)),
        );
      }),
    );

  return program;
}

/** Runs maestroctl and resolves with its exit code: 0 ok, 1 failure, 2 usage or invalid input. */
export async function runCli(argv: string[], io: CliIo, signal: AbortSignal): Promise<number> {
  const target: CliTarget = { api: "management" };
  const program = buildProgram(io, signal, target);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof UsageError) {
      io.stderr.write(`maestroctl: ${err.message}\n`);
      return 2;
    }
    const e = MaestroClientError.from(err);
    io.stderr.write(`maestroctl: ${e.rawMessage}\n`);
    const url = await resolveSettings(program.opts(), io.env).then(
      (s) => (target.api === "rooms" ? s.roomsUrl : s.url),
      () => "the configured address",
    );
    if (e.code === "unavailable") io.stderr.write(`hint: is Maestro running at ${url}?\n`);
    if (e.code === "unauthenticated")
      io.stderr.write(`hint: is Maestro running at ${url}, and is --token (MAESTRO_TOKEN) set?\n`);
    if (e.code === "permission_denied") io.stderr.write("hint: this token may only read; use a write token\n");
    return e.code === "invalid_argument" ? 2 : 1;
  }
}
