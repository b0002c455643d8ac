import { addRoomsOperation } from "./add-rooms/add-rooms.js";
import { createNewSchedulerVersionOperation } from "./create-new-scheduler-version/create-new-scheduler-version.js";
import { createSchedulerOperation } from "./create-scheduler/create-scheduler.js";
import type { AnyOperationDefinition } from "./definition.js";
import { deleteSchedulerOperation } from "./delete-scheduler/delete-scheduler.js";
import { healthControllerOperation } from "./health-controller/health-controller.js";
import { removeRoomsOperation } from "./remove-rooms/remove-rooms.js";
import type { OperationServices } from "./services.js";
import { storageCleanUpOperation } from "./storage-clean-up/storage-clean-up.js";
import { switchActiveVersionOperation } from "./switch-active-version/switch-active-version.js";
import { testOperation } from "./test-operation/test-operation.js";

export function builtinOperations(s: OperationServices): AnyOperationDefinition[] {
  return [
    createSchedulerOperation(s),
    deleteSchedulerOperation(s),
    addRoomsOperation(s),
    removeRoomsOperation(s),
    healthControllerOperation(s),
    createNewSchedulerVersionOperation(s),
    switchActiveVersionOperation(s),
    testOperation(),
    storageCleanUpOperation(s),
  ];
}
