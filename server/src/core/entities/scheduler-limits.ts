/**
 * Bounds on what one scheduler may ask for, so a single request cannot make the server spawn, store or send without
 * end. The values come from the `limits.*` settings; each refusal names its setting so an operator knows what to raise.
 */
export interface SchedulerLimits {
  containersPerSpec: number;
  envVarsPerContainer: number;
  /** UTF-8 bytes of one container's command and arguments together. */
  commandBytes: number;
  /** roomsReplicas, autoscaling min/max and add-rooms stay within this. */
  roomsPerScheduler: number;
  /** The runtime runs `command` itself (process runtime: there is no image entrypoint to fall back on). */
  commandRequired: boolean;
  /**
   * image, imagePullPolicy, requests and limits are required (Kubernetes). The process runtime ignores them, so there
   * they are optional and only checked when given.
   */
  kubernetesFieldsRequired: boolean;
}

export const defaultSchedulerLimits: SchedulerLimits = {
  containersPerSpec: 16,
  envVarsPerContainer: 256,
  commandBytes: 64 * 1024,
  roomsPerScheduler: 10_000,
  commandRequired: false,
  kubernetesFieldsRequired: true,
};
