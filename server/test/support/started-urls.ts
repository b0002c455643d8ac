/** The addresses a `maestro start` reported in its "maestro started" log line (JSON format), once it has printed it. */
export interface StartedUrls {
  managementApi?: string;
  roomsApi?: string;
  internalApi?: string;
}

/**
 * Tests start Maestro on port 0 and read the ports it got: a port picked beforehand and released can be taken by
 * another test's server before this one binds, and a readiness probe would then talk to that server.
 */
export function startedUrls(output: string): StartedUrls | undefined {
  for (const line of output.split("\n")) {
    if (!line.includes('"maestro started"')) continue;
    try {
      const entry = JSON.parse(line) as StartedUrls & { msg?: string };
      if (entry.msg === "maestro started") return entry;
    } catch {
      // a partial line: the rest comes with the next chunk
    }
  }
  return undefined;
}
