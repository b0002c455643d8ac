import type { MaestroRoom } from "@maestro/sdk-room";
import { log } from "./log.js";

/**
 * Turns connected clients into what Maestro understands: each TCP client is one running match, so the first one
 * makes the room occupied and the last one leaving makes it ready again. Player events go to the matchmaker.
 */
export class MatchReporter {
  readonly #room: MaestroRoom;
  #clients = 0;

  constructor(room: MaestroRoom) {
    this.#room = room;
  }

  get clients(): number {
    return this.#clients;
  }

  clientJoined(clientId: string): void {
    this.#clients += 1;
    log(`client connected ${clientId} (clients=${this.#clients})`);
    this.#call(`player joined ${clientId}`, this.#room.playerJoined(clientId));
    this.#reportStatus();
  }

  clientLeft(clientId: string): void {
    this.#clients -= 1;
    log(`client disconnected ${clientId} (clients=${this.#clients})`);
    this.#call(`player left ${clientId}`, this.#room.playerLeft(clientId));
    this.#reportStatus();
  }

  #reportStatus(): void {
    // While draining the SDK ignores ready/occupied, so a room on its way out is never offered again.
    if (this.#room.lifecycle !== "active") return;
    // One match per client: Maestro makes the room occupied (or active below maxMatches), and ready at zero.
    const matches = this.#clients;
    this.#call(matches > 0 ? `reported matches=${matches}` : "reported ready", this.#room.setMatches(matches));
  }

  #call(done: string, call: Promise<void>): void {
    call.then(
      () => log(done),
      (e: unknown) => log(`rooms API call failed (${done}): ${e instanceof Error ? e.message : String(e)}`),
    );
  }
}
