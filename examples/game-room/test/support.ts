import { once } from "node:events";
import { createConnection, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { type NodeProcess, spawnNode } from "@maestro/sdk-room/testing";

export const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));

export { eventually, freePort } from "@maestro/sdk-room/testing";

export type GameProcess = NodeProcess;

export function startGame(env: Record<string, string>): GameProcess {
  return spawnNode(MAIN, [], env);
}

export interface TcpClient {
  socket: Socket;
  received: () => string;
  closed: Promise<void>;
}

export async function connect(port: number): Promise<TcpClient> {
  const socket = createConnection({ port, host: "127.0.0.1" });
  let received = "";
  socket.setEncoding("utf8").on("data", (chunk: string) => {
    received += chunk;
  });
  // Not events.once: it would reject on "error" and leave an unhandled rejection when nobody awaits `closed`.
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  await once(socket, "connect");
  return { socket, received: () => received, closed };
}
