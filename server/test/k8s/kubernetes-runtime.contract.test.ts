import { runtimeContract } from "../contract/runtime.contract.js";
import { validScheduler } from "../support/fixtures.js";
import { trackedRuntime } from "./local-cluster.js";

// The same contract as the process runtime's, against a real API server, scheduler and controller manager; kwok plays
// the kubelet, so pods become Running and Ready without any container running.
runtimeContract("kubernetes", async () => {
  const { runtime, cleanUp } = trackedRuntime();
  return {
    runtime,
    // A short grace period: namespace deletion waits about that long after the pods are gone (see k8s-local.md).
    scheduler: () => validScheduler({ spec: { terminationGracePeriodSeconds: 1 } }),
    longRunningCommand: ["/game-room"],
    teardown: cleanUp,
  };
});
