/**
 * Settings for a Maestro on shared stores: schedulers in this PostgreSQL, operations and room state in this Redis (what
 * split modules and replicas need to see each other's work).
 */
export function sharedStoreSettings(pg: { url: string }, redis: { url: string }): Record<string, string> {
  return {
    "storage.schedulers.kind": "postgres",
    "storage.schedulers.url": pg.url,
    "storage.operations.kind": "redis",
    "storage.operations.url": redis.url,
    "storage.state.kind": "redis",
  };
}
