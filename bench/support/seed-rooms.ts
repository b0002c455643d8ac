// Rooms for a bench's own server processes, written through our Redis adapters as the server itself stores them.

import {
  createRedisClient,
  RedisInstanceStorage,
  RedisRoomStorage,
  waitUntilReady,
} from "../../server/src/adapters/storage/redis/index.js";
import type { GameRoom } from "../../server/src/core/entities/game-room.js";
import { silentLogger } from "../../server/src/core/ports/logger.js";
import { gameRoom } from "../../server/test/support/fixtures.js";

/**
 * Stores one room per id in `schedulerName` (a ready room unless `room` says otherwise), each with a ready instance
 * on its own port, 500 at a time.
 */
export async function seedRooms(
  redisUrl: string,
  schedulerName: string,
  ids: readonly string[],
  room: Partial<GameRoom> = {},
): Promise<void> {
  const client = createRedisClient(redisUrl, { name: "bench-seed" });
  try {
    await waitUntilReady(client, { timeoutMs: 10_000 });
    const rooms = new RedisRoomStorage(client, silentLogger);
    const instances = new RedisInstanceStorage(client);
    const now = new Date();
    for (let start = 0; start < ids.length; start += 500) {
      await Promise.all(
        ids.slice(start, start + 500).map(async (id, i) => {
          await rooms.createRoom(gameRoom({ ...room, id, schedulerName }, now));
          await instances.upsertInstance({
            id,
            schedulerName,
            status: { type: "ready", description: "" },
            address: {
              host: "127.0.0.1",
              ports: [{ name: "game", port: 40_000 + ((start + i) % 20_000), protocol: "tcp" }],
            },
          });
        }),
      );
    }
  } finally {
    client.disconnect();
  }
}
