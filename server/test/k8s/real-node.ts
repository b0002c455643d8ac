import { connect, type Socket } from "node:net";
import { eventually } from "../support/test-maestro.js";

/**
 * What the real-node suites share: Maestro deployed from deploy/k8s on the local cluster's real node
 * (test/k8s/up.sh), reached only through its in-cluster APIs. MAESTRO_URL and the rest come from run.sh / up.sh;
 * without them the suites skip.
 */
export const env = process.env;
export const MAESTRO = env.MAESTRO_URL ?? "";
export const ROOMS = env.MAESTRO_ROOMS_URL ?? "";
export const WAIT = { timeoutMs: 180_000, intervalMs: 500 };
export const LONG = 10 * WAIT.timeoutMs;

export async function call(base: string, token: string | undefined, method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, json };
}
export const api = (method: string, path: string, body?: unknown) =>
  call(MAESTRO, env.MAESTRO_TOKEN, method, path, body);
export const matchmaker = (method: string, path: string, body?: unknown) =>
  call(ROOMS, env.MAESTRO_MATCHMAKER_TOKEN, method, path, body);

export interface Room {
  id: string;
  status: string;
  version: string;
  host?: string;
  ports?: { name: string; port: number; protocol: string }[];
  instanceStatusDescription?: string;
}
export const rooms = async (scheduler: string): Promise<Room[]> =>
  (await api("GET", `/schedulers/${scheduler}/rooms?pageSize=500`)).json.rooms ?? [];
export const live = (r: Room) => !["terminating", "terminated"].includes(r.status);

export const container = (image = "maestro-game-room:dev") => ({
  name: "room",
  image,
  imagePullPolicy: "Never",
  command: [],
  requests: { memory: "32Mi", cpu: "10m" },
  limits: { memory: "128Mi", cpu: "500m" },
  ports: [{ name: "game", protocol: "tcp", port: 7000 }],
});
export const scheduler = (name: string, replicas: number, extra: Record<string, unknown> = {}, image?: string) => ({
  name,
  game: "real-node-e2e",
  maxSurge: "1",
  roomsReplicas: replicas,
  portRange: { start: 31000, end: 31999 },
  spec: {
    terminationGracePeriod: "10s",
    // The real node is tainted for Maestro's rooms and Deployments only; kwok's fake nodes take every other pod.
    toleration: "real-node",
    affinity: "real-node",
    containers: [container(image)],
    ...extra,
  },
});

export async function readyRooms(name: string, n: number, version?: string): Promise<Room[]> {
  return eventually(
    async () => {
      const all = await rooms(name);
      const ready = all.filter((r) => r.status === "ready" && (!version || r.version === version));
      return ready.length === n && all.filter(live).length === n ? ready : false;
    },
    { ...WAIT, what: `${n} rooms of ${name} ready${version ? ` at ${version}` : ""}` },
  );
}

/** A TCP client of the room's echo server, at the address Maestro reports. */
export class Client {
  readonly socket: Socket;
  private text = "";
  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (d) => {
      this.text += d.toString();
    });
  }
  static async open(host: string, port: number): Promise<Client> {
    const socket = connect(port, host);
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    return new Client(socket);
  }
  async received(pattern: RegExp, what: string): Promise<void> {
    await eventually(() => pattern.test(this.text), { ...WAIT, intervalMs: 100, what });
  }
  close(): void {
    this.socket.end();
  }
}
