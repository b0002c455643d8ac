import type { Timestamp } from "@bufbuild/protobuf/wkt";

export const toDate = (t: Timestamp | undefined): Date | undefined =>
  t && (t.seconds !== 0n || t.nanos !== 0) ? new Date(Number(t.seconds) * 1000 + t.nanos / 1e6) : undefined;

/** "12s ago", "3m ago"; "never" for a missing time. */
export function age(t: Timestamp | undefined, now = Date.now()): string {
  const d = toDate(t);
  if (!d) return "never";
  const s = Math.max(0, Math.round((now - d.getTime()) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s ago`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m ago`;
}

export const time = (t: Timestamp | undefined): string => toDate(t)?.toLocaleString() ?? "";

/** Colours of room statuses, shared by the bars, the chart and the badges. */
export const statusColors: Record<string, string> = {
  ready: "#2e9d57",
  occupied: "#2f6fd6",
  pending: "#e0a800",
  unready: "#d98324",
  terminating: "#8a8f98",
  error: "#d0342c",
  allocated: "#7a4fd1",
  active: "#1d9aa6",
  terminated: "#555b66",
};

export const roomStatuses = [
  "ready",
  "occupied",
  "allocated",
  "pending",
  "unready",
  "terminating",
  "error",
  "active",
  "terminated",
];
