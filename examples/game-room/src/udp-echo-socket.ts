import { createSocket, type Socket } from "node:dgram";
import { once } from "node:events";

/** Sends every datagram back to its sender. */
export async function startUdpEcho(port: number, host: string): Promise<Socket> {
  const socket = createSocket("udp4");
  socket.on("message", (message, from) => socket.send(message, from.port, from.address));
  socket.bind(port, host);
  await once(socket, "listening");
  return socket;
}

export function closeUdp(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()));
}
