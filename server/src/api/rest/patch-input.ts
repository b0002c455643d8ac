import type { DescMethod } from "@bufbuild/protobuf";
import { MaestroError } from "../../core/errors.js";

/**
 * In protobuf an empty list and an absent one are the same, so a PATCH's `spec.containers: []` would read as "leave
 * the containers as they are" and answer "no change". In JSON the client plainly asked for no containers at all,
 * which no scheduler may have: refuse it as such.
 */
export function refuseEmptyPatchLists(method: DescMethod, json: Record<string, unknown>): void {
  if (method.name !== "PatchScheduler") return;
  const spec = json.spec;
  if (typeof spec !== "object" || spec === null) return;
  const containers = (spec as Record<string, unknown>).containers;
  if (Array.isArray(containers) && containers.length === 0) {
    throw MaestroError.invalid([{ field: "spec.containers", message: "must have at least 1 container" }]);
  }
}
