#!/usr/bin/env node
import type { Socket as UdpSocket } from "node:dgram";
import { MaestroRoom } from "@maestro/sdk-room";
import { busyPercentFromEnv, CpuBurner, parseBusyCommand } from "./cpu-burner.js";
import { planPorts } from "./listen-plan.js";
import { log } from "./log.js";
import { MatchReporter } from "./match-reporter.js";
import { TcpEchoServer } from "./tcp-echo-server.js";
import { closeUdp, startUdpEcho } from "./udp-echo-socket.js";

const HOST = "0.0.0.0";

async function main(): Promise<void> {
  const room = MaestroRoom.fromEnv();
  log(`starting room ${room.roomId} of scheduler ${room.schedulerName}, rooms API ${room.roomsApiUrl}`);
  const reporter = new MatchReporter(room);
  const servers: TcpEchoServer[] = [];
  const udpSockets: UdpSocket[] = [];
  const burner = new CpuBurner();
  burner.set(busyPercentFromEnv(process.env));
  const command = (line: string): string | undefined => {
    const percent = parseBusyCommand(line);
    if (percent === undefined) return undefined;
    try {
      burner.set(percent);
      log(`busy ${percent}% of a core`);
      return `busy ${percent}`;
    } catch (e) {
      return `error: ${e instanceof Error ? e.message : String(e)}`;
    }
  };

  for (const plan of planPorts(room.ports, process.env)) {
    const server = new TcpEchoServer({
      name: plan.name,
      port: plan.port,
      host: HOST,
      onClientsChanged: ({ clientId, joined }) =>
        joined ? reporter.clientJoined(clientId) : reporter.clientLeft(clientId),
      stats: () => ({ clients: reporter.clients, roomId: room.roomId, busyPercent: burner.percent }),
      command,
    });
    const port = await server.listen();
    servers.push(server);
    log(`listening tcp ${plan.name} on ${HOST}:${port}`);
    if (plan.udp) {
      const socket = await startUdpEcho(plan.port, HOST);
      socket.on("error", (e) => log(`udp ${plan.name} error: ${e.message}`));
      udpSockets.push(socket);
      log(`listening udp ${plan.name} on ${HOST}:${socket.address().port}`);
    }
  }

  room.onTermination(async ({ reason, deadline, signal }) => {
    log(`termination requested (${reason}), draining until ${deadline.toISOString()}`);
    burner.stop();
    for (const server of servers) server.stopAccepting();
    log("stopped accepting clients");
    for (const server of servers) server.broadcast("server shutting down\n");
    await Promise.all(servers.map((s) => s.drained(signal)));
    const left = servers.reduce((n, s) => n + s.clients, 0);
    if (left > 0) {
      log(`drain deadline reached, disconnecting ${left} client(s)`);
      for (const server of servers) server.disconnectAll();
    } else {
      log("all clients left");
    }
    await Promise.all(udpSockets.map(closeUdp));
    log("game servers closed");
  });
  room.closed.then(() => log("reported terminated, exiting"));

  try {
    await room.ready();
    log("reported ready");
  } catch (e) {
    // Not fatal: the SDK's keep-alive loop keeps retrying the ready status in the background.
    log(`ready ping failed, retrying in the background: ${e instanceof Error ? e.message : String(e)}`);
  }
}

main().catch((e: unknown) => {
  log(`failed to start: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
