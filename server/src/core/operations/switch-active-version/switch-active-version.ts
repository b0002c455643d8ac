import { isRerun } from "../../entities/operation.js";
import { isMaestroError, MaestroError } from "../../errors.js";
import { failpoint } from "../../failpoints.js";
import type { OperationDefinition } from "../definition.js";
import { asObject } from "../input.js";
import type { OperationServices } from "../services.js";

export const SWITCH_ACTIVE_VERSION = "switch_active_version";

export interface SwitchActiveVersionInput {
  newActiveVersion: string;
}

/**
 * Makes an existing version the active one and marks the scheduler in-sync. Rooms are not replaced here: the health
 * controller sees rooms of another major version and rolls them over.
 */
export function switchActiveVersionOperation(s: OperationServices): OperationDefinition<SwitchActiveVersionInput> {
  return {
    name: SWITCH_ACTIVE_VERSION,
    // Switching to the same version twice changes nothing.
    retryable: true,
    parseInput(input) {
      const o = asObject(input, SWITCH_ACTIVE_VERSION);
      if (typeof o.newActiveVersion !== "string" || o.newActiveVersion.trim() === "") {
        throw MaestroError.invalid([{ field: "newActiveVersion", message: "is required" }]);
      }
      return { newActiveVersion: o.newActiveVersion };
    },
    async execute(ctx, { newActiveVersion }) {
      const opts = { signal: ctx.signal };
      const name = ctx.schedulerName;
      const previous = await s.schedulers.getScheduler(name, opts);
      try {
        await s.schedulers.switchActiveVersion(name, newActiveVersion, opts);
      } catch (err) {
        if (isMaestroError(err, "not_found")) {
          throw new MaestroError("not_found", `version ${newActiveVersion} of scheduler ${name} does not exist`, {
            cause: err,
          });
        }
        throw err;
      }
      await failpoint("switch_active_version/switched");
      s.onActiveVersionChanged?.(name);
      const active = await s.schedulers.getScheduler(name, opts);
      if (active.state !== "in-sync") await s.schedulers.updateScheduler({ ...active, state: "in-sync" }, opts);
      // A re-run finds the switch its dead predecessor made: its history says so rather than "from v to v".
      if (previous.spec.version === newActiveVersion && isRerun(ctx.operation)) {
        await ctx.history(`active version ${newActiveVersion} was switched by an earlier run of this operation`);
      } else {
        await ctx.history(`active version switched from ${previous.spec.version} to ${newActiveVersion}`);
      }
    },
  };
}
