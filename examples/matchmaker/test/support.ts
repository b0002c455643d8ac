import { fileURLToPath } from "node:url";

export { eventually, freePort, type NodeProcess, spawnNode } from "@maestro/sdk-room/testing";

export const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
export const GAME_ROOM = fileURLToPath(new URL("../../game-room/dist/main.js", import.meta.url));
