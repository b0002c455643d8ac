export { KubeApi, type KubeApiOptions, loadKubeConfig } from "./kube-api.js";
export { KubernetesRuntime, type KubernetesRuntimeOptions } from "./kubernetes-runtime.js";
export { convertPodStatus, nodeAddress, podToInstance } from "./pod-status.js";
