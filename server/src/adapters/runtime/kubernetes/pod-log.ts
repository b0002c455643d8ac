import type { V1Pod } from "@kubernetes/client-node";
import { MaestroError } from "../../../core/errors.js";
import type { KubeApi } from "./kube-api.js";

/** What is kept of a crashed room's log once its pod goes: enough lines to see why, bounded in storage. */
export const KEPT_TAIL_LINES = 100;
export const KEPT_TAIL_BYTES = 64 * 1024;
/** The most read back at once, whatever the lines asked: a room writing runaway lines must not fill our memory. */
const MAX_READ_BYTES = 1024 * 1024;

/**
 * The last lines of the room container's log (the pod's first container, the one Maestro reports on), through the
 * API server (pods/log). When the container restarted and the current one has nothing to show yet (or is waiting in
 * back-off), the previous container's: that is the one that crashed.
 */
export async function readPodLog(
  api: KubeApi,
  pod: V1Pod,
  tailLines: number,
  signal?: AbortSignal,
): Promise<{ log: string; previous: boolean }> {
  const namespace = pod.metadata?.namespace ?? "";
  const name = pod.metadata?.name ?? "";
  const container = pod.spec?.containers?.[0]?.name;
  const restarted = (pod.status?.containerStatuses?.find((c) => c.name === container)?.restartCount ?? 0) > 0;
  const read = (previous: boolean) =>
    api.call(
      `log of pod ${namespace}/${name}`,
      (c) =>
        api.core.readNamespacedPodLog(
          { name, namespace, container, tailLines, limitBytes: MAX_READ_BYTES, previous },
          c,
        ),
      signal,
      // A 400 (no container yet) will not change on a retry, and a log is no reason to wait long.
      { attempts: 2 },
    );
  let current: string | undefined;
  let failure: unknown;
  try {
    current = String(await read(false));
  } catch (err) {
    if (signal?.aborted || !(err instanceof MaestroError && err.code === "invalid_argument")) throw err;
    failure = err;
  }
  if (restarted && !current) {
    const previous = await read(true).catch(() => undefined);
    if (previous !== undefined) return { log: String(previous), previous: true };
  }
  if (current !== undefined) return { log: current, previous: false };
  // The API server answers 400 while the container is being created or its image cannot be pulled.
  throw new MaestroError("failed_precondition", `room ${name} has no log yet: ${(failure as Error).message}`, {
    cause: failure,
  });
}

/** The end of a text within `maxBytes` of UTF-8, starting at a line boundary when one is in reach. */
export function tailBytes(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= maxBytes) return text;
  const cut = bytes.subarray(bytes.length - maxBytes).toString("utf8");
  const newline = cut.indexOf("\n");
  return newline >= 0 && newline < cut.length - 1 ? cut.slice(newline + 1) : cut.replace(/^\uFFFD+/, "");
}
