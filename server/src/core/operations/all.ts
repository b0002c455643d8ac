import { addRoomsOperation } from "./add-rooms/add-rooms.js";
import { createSchedulerOperation } from "./create-scheduler/create-scheduler.js";
import type { AnyOperationDefinition } from "./definition.js";
import { deleteSchedulerOperation } from "./delete-scheduler/delete-scheduler.js";
import { healthControllerOperation } from "./health-controller/health-controller.js";
import { removeRoomsOperation } from "./remove-rooms/remove-rooms.js";
import type { OperationServices } from "./services.js";

export function builtinOperations(s: OperationServices): AnyOperationDefinition[] {
  return [
    createSchedulerOperation(s),
    deleteSchedulerOperation(s),
    addRoomsOperation(s),
    removeRoomsOperation(s),
    healthControllerOperation(s),
  ];
}
