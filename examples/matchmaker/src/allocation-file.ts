import { readFile } from "node:fs/promises";

export interface RoomAddress {
  roomId: string | undefined;
  host: string;
  port: number;
}

/**
 * Reads the room address from what `maestroctl allocate <scheduler> -o json` printed (the rooms API's
 * AllocateRoomResponse: roomId, host, ports[{name, port, protocol}]), from a file or `-` for stdin.
 */
export async function readAllocation(source: string, portName: string): Promise<RoomAddress> {
  const text = source === "-" ? await readStdin() : await readFile(source, "utf8");
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new Error(
      `--allocation ${source}: not JSON (expected the output of maestroctl allocate <scheduler> -o json)`,
    );
  }
  const allocation = (typeof doc === "object" && doc !== null ? doc : {}) as {
    roomId?: unknown;
    success?: unknown;
    host?: unknown;
    ports?: unknown;
  };
  if (allocation.success === false) throw new Error(`--allocation ${source}: the allocation did not succeed`);
  const ports = Array.isArray(allocation.ports) ? (allocation.ports as { name?: unknown; port?: unknown }[]) : [];
  const port = ports.find((p) => p.name === portName) ?? ports[0];
  if (typeof port?.port !== "number") throw new Error(`--allocation ${source}: no port in the allocation`);
  return {
    roomId: typeof allocation.roomId === "string" ? allocation.roomId : undefined,
    host: typeof allocation.host === "string" && allocation.host !== "" ? allocation.host : "127.0.0.1",
    port: port.port,
  };
}

async function readStdin(): Promise<string> {
  let text = "";
  for await (const chunk of process.stdin) text += chunk;
  return text;
}
