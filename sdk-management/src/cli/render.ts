import type { JsonValue } from "@bufbuild/protobuf";
import {
  type GameRoom,
  GameRoomSchema,
  type ListOperationItem,
  ListOperationItemSchema,
  type Operation,
  OperationSchema,
  type RoomsCrashing,
  type Scheduler,
  type SchedulerInfo,
  SchedulerInfoSchema,
  SchedulerSchema,
  type SchedulerVersion,
  SchedulerVersionSchema,
  type SchedulerWithoutSpec,
  SchedulerWithoutSpecSchema,
} from "@maestro/proto";
import { age, formatTime, messageJson, renderFields, renderTable, type Style } from "./output.js";

/** Each view gives the structured value (json/yaml) and the human table for one kind of result. */
export interface View {
  json: JsonValue;
  table(style: Style): string;
  /** `-o wide`: the table with more columns; the plain table when a view has none to add. */
  wide?(style: Style): string;
}

const statusColumn = (cols: number[]) => (style: Style) => (i: number, v: string) =>
  cols.includes(i) ? style.status(v) : v;

const range = (r: { start: number; end: number } | undefined) => (r ? `${r.start}-${r.end}` : "");

/** `in-sync, rooms crashing`: in-sync alone would call a fleet that cannot keep a room up healthy. */
function stateWithCrashes(s: { state: string; roomsCrashing?: RoomsCrashing | undefined }): string {
  return s.roomsCrashing ? `${s.state}, rooms crashing` : s.state;
}

/** `3 rooms crashed; last my-game-x1y2z: exit code 1: Error: Cannot find module …`. */
export function crashLine(c: RoomsCrashing): string {
  return `${c.crashes} room${c.crashes === 1 ? "" : "s"} crashed; last ${c.lastRoomId}: ${c.lastReason}`;
}

export function schedulerListView(list: SchedulerWithoutSpec[]): View {
  return {
    json: list.map((s) => messageJson(SchedulerWithoutSpecSchema, s)),
    table: (style) =>
      renderTable(
        ["NAME", "GAME", "STATE", "VERSION", "REPLICAS", "MAX SURGE", "PORTS", "AGE"],
        list.map((s) => [
          s.name,
          s.game,
          stateWithCrashes(s),
          s.version,
          s.roomsReplicas,
          s.maxSurge,
          range(s.portRange),
          age(s.createdAt),
        ]),
        style,
        statusColumn([2])(style),
      ),
  };
}

export function schedulerInfoView(list: SchedulerInfo[]): View {
  return {
    json: list.map((s) => messageJson(SchedulerInfoSchema, s)),
    table: (style) =>
      renderTable(
        ["NAME", "GAME", "STATE", "REPLICAS", "READY", "OCCUPIED", "PENDING", "TERMINATING", "ERROR"],
        list.map((s) => [
          s.name,
          s.game,
          stateWithCrashes(s),
          s.roomsReplicas,
          s.roomsReady,
          s.roomsOccupied,
          s.roomsPending,
          s.roomsTerminating,
          s.roomsError,
        ]),
        style,
        statusColumn([2])(style),
      ),
  };
}

/** `cpu 50% for 80% of 200s limit 90%; room 70% for 80% of 100s (cooldown 30s)` */
function triggersLine(d: {
  cooldown: number;
  triggers: { type: string; usage: number; threshold: number; time: number; limit?: number; delta?: number }[];
}): string {
  const triggers = d.triggers.map(
    (t) =>
      `${t.type} ${t.usage}% for ${t.threshold}% of ${t.time}s` +
      (t.limit !== undefined ? ` limit ${t.limit}%` : "") +
      (t.delta !== undefined ? ` delta ${t.delta}` : ""),
  );
  return `${triggers.join("; ")} (cooldown ${d.cooldown}s)`;
}

export function schedulerView(s: Scheduler): View {
  return {
    json: messageJson(SchedulerSchema, s),
    table: (style) => {
      const containers = s.spec?.containers ?? [];
      const grace = s.spec?.terminationGracePeriod;
      const autoscaling = s.autoscaling?.enabled
        ? `${s.autoscaling.policy?.type ?? "?"} min ${s.autoscaling.min} max ${s.autoscaling.max}`
        : "off";
      return renderFields(
        [
          ["Name", s.name],
          ["Game", s.game],
          ["State", style.status(s.state)],
          ["Rooms crashing", s.roomsCrashing && crashLine(s.roomsCrashing)],
          ["Version", s.spec?.version],
          ["Replicas", s.roomsReplicas],
          ["Max surge", s.maxSurge],
          ["Autoscaling", autoscaling],
          ...(["up", "down"] as const).flatMap((direction): [string, string][] => {
            const d = s.autoscaling?.policy?.parameters?.metricsTriggers?.[direction];
            return d ? [[`Scale ${direction}`, triggersLine(d)]] : [];
          }),
          ["Port range", range(s.portRange)],
          ["Grace period", grace ? `${grace.seconds}s` : undefined],
          ["Occupied timeout", s.occupiedTimeout === undefined ? undefined : `${s.occupiedTimeout}s`],
          ...containers.map((c, i): [string, string] => [
            `Container ${i}`,
            `${c.name} image=${c.image}${c.command.length ? ` command=${JSON.stringify(c.command)}` : ""} ports=${c.ports
              .map((p) => `${p.name}:${p.port}/${p.protocol}`)
              .join(",")}`,
          ]),
          ...s.forwarders.map((f): [string, string] => [
            `Forwarder ${f.name}`,
            `${f.type} ${f.address}${f.enable ? "" : " (disabled)"}`,
          ]),
          ["Created", formatTime(s.createdAt)],
        ],
        style,
      );
    },
  };
}

export function versionsView(list: SchedulerVersion[]): View {
  return {
    json: list.map((v) => messageJson(SchedulerVersionSchema, v)),
    table: (style) =>
      renderTable(
        ["VERSION", "ACTIVE", "CREATED"],
        list.map((v) => [v.version, v.isActive ? "yes" : "", formatTime(v.createdAt)]),
        style,
      ),
  };
}

export function operationListView(list: (ListOperationItem & { stage?: string })[]): View {
  return {
    json: list.map((o) => messageJson(ListOperationItemSchema, o)),
    table: (style) =>
      renderTable(
        ["ID", "DEFINITION", "STATUS", "CREATED"],
        list.map((o) => [o.id, o.definitionName, o.status, formatTime(o.createdAt)]),
        style,
        statusColumn([2])(style),
      ),
  };
}

export function operationView(op: Operation): View {
  return {
    json: messageJson(OperationSchema, op),
    table: (style) => {
      const head = renderFields(
        [
          ["ID", op.id],
          ["Scheduler", op.schedulerName],
          ["Definition", op.definitionName],
          ["Status", style.status(op.status)],
          ["Created", formatTime(op.createdAt)],
          ["Lease until", op.lease?.ttl],
        ],
        style,
      );
      const history = op.executionHistory.map((e) => `  ${style.dim(formatTime(e.createdAt))}  ${e.event}`);
      return history.length ? `${head}${style.bold("History:")}\n${history.join("\n")}\n` : head;
    },
  };
}

const ports = (r: { ports: { name: string; port: number; protocol: string }[] }) =>
  r.ports.map((p) => `${p.name}:${p.port}/${p.protocol}`).join(",");

export function roomListView(list: GameRoom[]): View {
  const row = (r: GameRoom) => [
    r.id,
    r.status,
    r.pingStatus,
    r.runningMatches,
    r.version,
    r.host,
    ports(r),
    r.usage ? `${Math.round(r.usage.cpuMillicores)}m` : "",
    r.usage ? formatBytes(r.usage.memoryBytes) : "",
  ];
  const headers = ["ID", "STATUS", "PING", "MATCHES", "VERSION", "HOST", "PORTS", "CPU", "MEMORY"];
  return {
    json: list.map((r) => messageJson(GameRoomSchema, r)),
    table: (style) =>
      renderTable(
        [...headers, "AGE"],
        list.map((r) => [...row(r), age(r.createdAt)]),
        style,
        statusColumn([1])(style),
      ),
    wide: (style) =>
      renderTable(
        [...headers, "PID", "INSTANCE", "AGE"],
        list.map((r) => [...row(r), r.pids.join(",") || "-", r.instanceStatus, age(r.createdAt)]),
        style,
        statusColumn([1])(style),
      ),
  };
}

/** `250m (250% of 100m requested)`, the share being what cpu and memory triggers compare with their usage. */
function usageLine(used: string, value: number, request: number, requested: string): string {
  return request > 0 ? `${used} (${Math.round((value / request) * 100)}% of ${requested} requested)` : used;
}

function formatBytes(bytes: number): string {
  const units = ["B", "Ki", "Mi", "Gi", "Ti"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)}${units[unit]}`;
}

export function roomView(r: GameRoom): View {
  return {
    json: messageJson(GameRoomSchema, r),
    table: (style) =>
      renderFields(
        [
          ["ID", r.id],
          ["Scheduler", r.schedulerName],
          ["Version", r.version],
          ["Status", style.status(r.status)],
          ["Ping status", r.pingStatus],
          ["Instance", `${r.instanceStatus}${r.instanceStatusDescription ? ` (${r.instanceStatusDescription})` : ""}`],
          ["Matches", r.runningMatches],
          ["Host", r.host],
          ["Ports", ports(r)],
          [
            "CPU",
            r.usage &&
              usageLine(
                `${Math.round(r.usage.cpuMillicores)}m`,
                r.usage.cpuMillicores,
                r.usage.cpuRequestMillicores,
                `${Math.round(r.usage.cpuRequestMillicores)}m`,
              ),
          ],
          [
            "Memory",
            r.usage &&
              usageLine(
                formatBytes(r.usage.memoryBytes),
                r.usage.memoryBytes,
                r.usage.memoryRequestBytes,
                formatBytes(r.usage.memoryRequestBytes),
              ),
          ],
          ["PID", r.pids.length > 0 ? r.pids.join(", ") : undefined],
          ["Validation room", r.isValidationRoom ? "yes" : undefined],
          ["Created", formatTime(r.createdAt)],
          ["Last ping", formatTime(r.lastPingAt)],
          ["Allocated", formatTime(r.allocatedAt)],
        ],
        style,
      ),
  };
}
