import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/** A TCP port free on 127.0.0.1 right now (the OS picks it), for servers the tests start. */
export function freePort(): Promise<number> {
  return bindable(0);
}

const handedOut = new Set<number>();

/**
 * A port free on 127.0.0.1 now and below the OS's ephemeral range, for a server a test restarts on the same port: an
 * ephemeral one could be given to another socket while the server is down, one below the range only to a program
 * that asks for it by number. Picked at random and checked, so a person's service on the machine is never used.
 */
export async function freeStablePort(): Promise<number> {
  const ephemeralStart = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
  const low = 10_000;
  const high = Math.max(low + 1_000, ephemeralStart);
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (handedOut.has(port)) continue;
    if ((await bindable(port).catch(() => 0)) === port) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port between ${low} and ${high} after 100 tries`);
}

function bindable(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const address = server.address();
      const bound = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(bound));
    });
  });
}
