import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProcessRuntime } from "../../src/adapters/runtime/process/process-runtime.js";
import { validScheduler } from "../support/fixtures.js";
import { runtimeContract } from "./runtime.contract.js";

runtimeContract("process", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "maestro-process-runtime-"));
  const runtime = new ProcessRuntime({ dataDir });
  await runtime.start();
  return {
    runtime,
    scheduler: () => validScheduler({ spec: { terminationGracePeriodSeconds: 5 } }),
    longRunningCommand: [process.execPath, "-e", "setInterval(() => {}, 1000)"],
    async teardown() {
      await runtime.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
});
