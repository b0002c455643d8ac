import pino from "pino";
import type { Logger } from "./core/ports/logger.js";

/** JSON logs on stdout (pino); `MAESTRO_LOG_LEVEL` / `--log-level` choose the level. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: "maestro" },
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: { err: pino.stdSerializers.err },
  }) as unknown as Logger;
}
