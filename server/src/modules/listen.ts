import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { MaestroError } from "../core/errors.js";

/** Listens and returns the base URL; a taken port becomes an error that says which setting to change. */
export async function listen(app: FastifyInstance, host: string, port: number): Promise<string> {
  try {
    await app.listen({ host, port });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EADDRINUSE") {
      throw new MaestroError("unavailable", `port ${port} on ${host} is already in use (another maestro running?)`, {
        cause: err,
      });
    }
    throw err;
  }
  const address = app.server.address() as AddressInfo;
  const h = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return `http://${h}:${address.port}`;
}
