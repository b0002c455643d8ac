export interface PortPlan {
  name: string;
  port: number;
  /** A UDP echo socket on the same port number, next to the TCP server. */
  udp: boolean;
}

const DEFAULT_PORT = 7000;

/**
 * Which ports to listen on: every port Maestro assigned (MAESTRO_PORT_<NAME>), or, when run by hand without any,
 * one port named `game` on $PORT (default 7000).
 */
export function planPorts(assigned: Readonly<Record<string, number>>, env: NodeJS.ProcessEnv): PortPlan[] {
  const udpEverywhere = env["GAME_UDP"] === "1";
  const entries = Object.entries(assigned);
  if (entries.length === 0) {
    const port = env["PORT"] ? Number(env["PORT"]) : DEFAULT_PORT;
    if (!Number.isInteger(port) || port < 0 || port > 65_535)
      throw new Error(`PORT must be a port number, got ${env["PORT"]}`);
    entries.push(["game", port]);
  }
  return entries
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, port]) => ({ name, port, udp: udpEverywhere || name.includes("udp") }));
}
