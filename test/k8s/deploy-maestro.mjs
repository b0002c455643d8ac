// Applies deploy/k8s as shipped to the local cluster's real node, with the local overlay below, and waits until every
// Maestro Deployment is Ready through its probes.
//   node deploy-maestro.mjs <kubeconfig> <postgres host:port> <redis host:port>
//
// The overlay (what differs from deploy/k8s, and why):
//   - PostgreSQL and Redis are the host's (started by up.sh on the node's bridge address): their Deployments are left
//     out (their images would come from a registry) and their Services keep their names but point at the host
//     through an EndpointSlice, so the shipped ConfigMap and Secret URLs work unchanged.
//   - Every Deployment tolerates and selects the real node (kwok's fake nodes run no container).
// Images are the shipped names (maestro:dev, loaded into the node's containerd by node.sh).
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { AppsV1Api, KubeConfig, KubernetesObjectApi, loadAllYaml } from "@kubernetes/client-node";

const [kubeconfig, postgres, redis] = process.argv.slice(2);
const deployDir = join(dirname(fileURLToPath(import.meta.url)), "../../deploy/k8s");
const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
const objects = KubernetesObjectApi.makeApiClient(kc);
const apps = kc.makeApiClient(AppsV1Api);

const external = {
  "maestro-postgres": postgres,
  "maestro-redis": redis,
};

const kustomization = loadAllYaml(await readFile(join(deployDir, "kustomization.yaml"), "utf8"))[0];
const docs = [];
for (const file of kustomization.resources) {
  docs.push(...loadAllYaml(await readFile(join(deployDir, file), "utf8")).filter(Boolean));
}

const applied = [];
for (const doc of docs) {
  const name = doc.metadata?.name;
  if (doc.kind === "Deployment" && name in external) continue;
  if (doc.kind === "Service" && name in external) {
    const [host, port] = external[name].split(":");
    const { selector: _selector, ...spec } = doc.spec;
    applied.push({ ...doc, spec: { ...spec, ports: spec.ports.map((p) => ({ ...p, targetPort: Number(port) })) } });
    applied.push({
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: {
        name,
        namespace: doc.metadata.namespace,
        labels: { "kubernetes.io/service-name": name, "endpointslice.kubernetes.io/managed-by": "maestro-test-up" },
      },
      addressType: "IPv4",
      endpoints: [{ addresses: [host], conditions: { ready: true } }],
      ports: doc.spec.ports.map((p) => ({ name: p.name, port: Number(port), protocol: "TCP" })),
    });
    continue;
  }
  if (doc.kind === "Deployment") {
    const pod = doc.spec.template.spec;
    pod.nodeSelector = { ...pod.nodeSelector, "real-node": "true" };
    pod.tolerations = [
      ...(pod.tolerations ?? []),
      { key: "dedicated", operator: "Equal", value: "real-node", effect: "NoSchedule" },
    ];
  }
  applied.push(doc);
}

for (const obj of applied) {
  try {
    await objects.create(obj);
  } catch (err) {
    if (err.code !== 409) throw new Error(`${obj.kind} ${obj.metadata.name}: ${err.body ?? err.message}`);
    const current = await objects.read(obj);
    await objects.replace({ ...obj, metadata: { ...obj.metadata, resourceVersion: current.metadata.resourceVersion } });
  }
}

const deadline = Date.now() + Number(process.env.DEPLOY_TIMEOUT_MS ?? 300_000);
for (;;) {
  const list = await apps.listNamespacedDeployment({ namespace: "maestro" });
  // Rolled out: the current generation seen, every replica updated and Ready, no old replica left.
  const waiting = list.items.filter((d) => {
    const want = d.spec?.replicas ?? 1;
    const st = d.status ?? {};
    return (
      (st.observedGeneration ?? 0) < (d.metadata?.generation ?? 0) ||
      (st.updatedReplicas ?? 0) < want ||
      (st.readyReplicas ?? 0) < want ||
      (st.replicas ?? 0) > want
    );
  });
  if (list.items.length > 0 && waiting.length === 0) break;
  if (Date.now() > deadline) {
    console.error(`Deployments not Ready: ${waiting.map((d) => d.metadata.name).join(", ")}`);
    process.exit(1);
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
}
console.log(`Maestro Ready: ${applied.filter((o) => o.kind === "Deployment").length} Deployments`);
