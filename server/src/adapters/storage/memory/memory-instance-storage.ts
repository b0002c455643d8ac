import type { Instance, InstanceStatusType } from "../../../core/entities/game-room.js";
import type { CallOptions } from "../../../core/ports/call-options.js";
import type { InstanceStorage } from "../../../core/ports/room-storage.js";
import { throwIfAborted } from "./abort.js";

/** InstanceStorage in process memory. */
export class MemoryInstanceStorage implements InstanceStorage {
  private readonly instances = new Map<string, Map<string, Instance>>();

  async upsertInstance(instance: Instance, opts?: CallOptions): Promise<void> {
    throwIfAborted(opts);
    let instances = this.instances.get(instance.schedulerName);
    if (instances === undefined) {
      instances = new Map();
      this.instances.set(instance.schedulerName, instances);
    }
    instances.set(instance.id, structuredClone(instance));
  }

  async getInstance(schedulerName: string, roomId: string, opts?: CallOptions): Promise<Instance | undefined> {
    throwIfAborted(opts);
    const instance = this.instances.get(schedulerName)?.get(roomId);
    return instance === undefined ? undefined : structuredClone(instance);
  }

  async deleteInstance(schedulerName: string, roomId: string, opts?: CallOptions): Promise<void> {
    throwIfAborted(opts);
    const instances = this.instances.get(schedulerName);
    instances?.delete(roomId);
    if (instances?.size === 0) this.instances.delete(schedulerName);
  }

  /** Synchronous, for MemoryRoomStorage.applyPing. */
  statusOf(schedulerName: string, roomId: string): InstanceStatusType | undefined {
    return this.instances.get(schedulerName)?.get(roomId)?.status.type;
  }

  async listInstances(schedulerName: string, opts?: CallOptions): Promise<Instance[]> {
    throwIfAborted(opts);
    return [...(this.instances.get(schedulerName)?.values() ?? [])].map((instance) => structuredClone(instance));
  }
}
