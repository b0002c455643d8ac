import { KubernetesRuntime, type KubernetesRuntimeOptions } from "../../src/adapters/runtime/kubernetes/index.js";
import type { Scheduler } from "../../src/core/entities/scheduler.js";

/** The kubeconfig of the local control plane that `npm run test:k8s` started. */
export function testKubeconfig(): string {
  const path = process.env.MAESTRO_TEST_KUBECONFIG;
  if (!path) throw new Error("MAESTRO_TEST_KUBECONFIG is not set: run these tests with `npm run test:k8s`");
  return path;
}

/**
 * A Kubernetes runtime on the local cluster that remembers the schedulers it created, so a test's teardown can remove
 * every namespace it left behind.
 */
export function trackedRuntime(opts: KubernetesRuntimeOptions = {}): {
  runtime: KubernetesRuntime;
  cleanUp(): Promise<void>;
} {
  const runtime = new KubernetesRuntime({ kubeconfig: testKubeconfig(), qps: 500, burst: 1000, ...opts });
  const created = new Map<string, Scheduler>();
  const createScheduler = runtime.createScheduler.bind(runtime);
  runtime.createScheduler = async (scheduler, callOpts) => {
    created.set(scheduler.name, scheduler);
    await createScheduler(scheduler, callOpts);
  };
  return {
    runtime,
    async cleanUp() {
      for (const scheduler of created.values()) await runtime.deleteScheduler(scheduler).catch(() => undefined);
      await runtime.close();
    },
  };
}
