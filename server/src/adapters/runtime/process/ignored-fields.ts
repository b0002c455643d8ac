import type { Scheduler } from "../../../core/entities/scheduler.js";

/**
 * Fields a scheduler sets that only Kubernetes reads: the process runtime runs `command` as a child process, so an
 * image, a pull policy, resource limits, a toleration or an affinity change nothing here. `requests` are read (cpu
 * and memory autoscaling triggers weigh usage against them), so they are not listed.
 */
export function fieldsIgnoredByProcessRuntime(scheduler: Scheduler): string[] {
  const ignored: string[] = [];
  scheduler.spec.containers.forEach((c, i) => {
    const path = `spec.containers[${i}]`;
    if (c.image) ignored.push(`${path}.image`);
    if (c.imagePullPolicy) ignored.push(`${path}.imagePullPolicy`);
    if (c.limits?.cpu || c.limits?.memory) ignored.push(`${path}.limits`);
  });
  if (scheduler.spec.toleration) ignored.push("spec.toleration");
  if (scheduler.spec.affinity) ignored.push("spec.affinity");
  return ignored;
}
