import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestMaestro, type TestMaestro } from "../support/test-maestro.js";

/** Sends one HTTP/1.1 request on an open socket and resolves with the status line of the answer. */
function request(socket: Socket, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const onData = (d: Buffer) => {
      text += d.toString();
      const end = text.indexOf("\r\n\r\n");
      if (end < 0) return;
      const length = Number(/content-length: *(\d+)/i.exec(text)?.[1] ?? 0);
      if (text.length < end + 4 + length) return;
      done();
      resolve(text.split("\r\n")[0] ?? "");
    };
    const onClose = () => {
      done();
      reject(new Error("the server closed the kept-alive connection"));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error("no answer on the kept-alive connection within 5 s"));
    }, 5_000);
    const done = () => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("close", onClose);
    };
    socket.on("data", onData);
    socket.on("close", onClose);
    socket.write(`GET /healthz HTTP/1.1\r\nHost: ${host}\r\nConnection: keep-alive\r\n\r\n`);
  });
}

// Regression: bench scale-k8s died with ECONNRESET on rooms-API pings. Node closes an idle kept-alive connection
// after 5 s by default, so a client reusing it just as the server closes it gets a reset; a room pinging every 10 s
// (the room SDK's default) met that race on every ping. The APIs now keep idle connections longer than that
// (limits' idle timeout, 60 s by default).
describe("kept-alive connections", () => {
  let maestro: TestMaestro;
  beforeAll(async () => {
    maestro = await startTestMaestro();
  });
  afterAll(async () => {
    await maestro.stop();
  });

  it("stay open across a room's ping interval (10 s) on the rooms API", async () => {
    const url = new URL(maestro.roomsUrl);
    const socket = connect(Number(url.port), url.hostname);
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    try {
      expect(await request(socket, url.host)).toMatch(/^HTTP\/1\.1 /);
      await new Promise((resolve) => setTimeout(resolve, 11_000));
      expect(await request(socket, url.host)).toMatch(/^HTTP\/1\.1 /);
    } finally {
      socket.destroy();
    }
  }, 60_000);
});
