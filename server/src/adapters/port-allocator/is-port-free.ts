import { createSocket } from "node:dgram";
import { createServer } from "node:net";

/**
 * Whether nothing on this machine holds the port, found by binding it and letting go at once. The default host is
 * the wildcard address because a room usually listens on every interface, and a wildcard bind also fails when any
 * single address holds the port.
 */
export function isPortFree(port: number, protocol: string, host = "0.0.0.0"): Promise<boolean> {
  if (protocol === "udp") return canBindUdp(port, host);
  // Node cannot open SCTP sockets; a TCP bind is the nearest check that the port is taken.
  return canBindTcp(port, host);
}

function canBindTcp(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function canBindUdp(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket(host.includes(":") ? "udp6" : "udp4");
    socket.unref();
    socket.once("error", () => {
      socket.close();
      resolve(false);
    });
    socket.bind({ port, address: host, exclusive: true }, () => socket.close(() => resolve(true)));
  });
}
