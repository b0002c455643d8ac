import type { Redis } from "ioredis";
import type { Instance } from "../../../core/entities/game-room.js";
import type { CallOptions } from "../../../core/ports/call-options.js";
import type { InstanceStorage } from "../../../core/ports/room-storage.js";
import { redisCall } from "./redis-errors.js";
import { instanceMapKey } from "./redis-keys.js";
import { decodeInstance, encodeInstance } from "./room-hash.js";

/** InstanceStorage on Maestro's `scheduler:{s}:podMap` hash: field room id, value the instance as JSON. */
export class RedisInstanceStorage implements InstanceStorage {
  constructor(private readonly client: Redis) {}

  async upsertInstance(instance: Instance, opts?: CallOptions): Promise<void> {
    const key = instanceMapKey(instance.schedulerName);
    await redisCall(opts, () => this.client.hset(key, instance.id, encodeInstance(instance)));
  }

  async getInstance(schedulerName: string, roomId: string, opts?: CallOptions): Promise<Instance | undefined> {
    const key = instanceMapKey(schedulerName);
    const json = await redisCall(opts, () => this.client.hget(key, roomId));
    return json === null ? undefined : decodeInstance(key, roomId, json);
  }

  async deleteInstance(schedulerName: string, roomId: string, opts?: CallOptions): Promise<void> {
    await redisCall(opts, () => this.client.hdel(instanceMapKey(schedulerName), roomId));
  }

  async listInstances(schedulerName: string, opts?: CallOptions): Promise<Instance[]> {
    const key = instanceMapKey(schedulerName);
    const hash = await redisCall(opts, () => this.client.hgetall(key));
    return Object.entries(hash).map(([roomId, json]) => decodeInstance(key, roomId, json));
  }
}
