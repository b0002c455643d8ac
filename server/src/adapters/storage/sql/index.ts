export { migrate } from "./migrate.js";
export { openSchedulerStorage, type SchedulerStorageConfig } from "./open-scheduler-storage.js";
export { PgClient, type PgClientOptions } from "./pg-client.js";
export { PgliteClient } from "./pglite-client.js";
export type { SqlClient } from "./sql-client.js";
export { SqlSchedulerStorage } from "./sql-scheduler-storage.js";
