import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CoreV1Api, KubeConfig, type KubernetesObject, KubernetesObjectApi } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { testKubeconfig } from "./local-cluster.js";

const deployDir = fileURLToPath(new URL("../../../deploy/k8s", import.meta.url));

/** deploy/k8s's objects, minus the kustomization itself. */
async function manifests(): Promise<{ file: string; object: KubernetesObject }[]> {
  const files = (await readdir(deployDir)).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml").sort();
  const out: { file: string; object: KubernetesObject }[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(await readFile(join(deployDir, file), "utf8"))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message}`);
      const object = doc.toJS() as KubernetesObject | null;
      if (object) out.push({ file, object });
    }
  }
  return out;
}

/** The API server validates every object of deploy/k8s (server-side dry run: schema, RBAC rules, names, ports). */
describe("deploy/k8s manifests", () => {
  let objects: KubernetesObjectApi;
  let core: CoreV1Api;
  let createdNamespace = false;

  beforeAll(async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(testKubeconfig());
    objects = KubernetesObjectApi.makeApiClient(kc);
    core = kc.makeApiClient(CoreV1Api);
  });
  afterAll(async () => {
    if (createdNamespace) await core.deleteNamespace({ name: "maestro" }).catch(() => undefined);
  });

  it("every object passes a server-side dry run, and the kustomization lists every file", async () => {
    const all = await manifests();
    const kinds = all.map((m) => m.object.kind);
    for (const kind of ["Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "Secret"]) {
      expect(kinds).toContain(kind);
    }
    const deployments = all.filter((m) => m.object.kind === "Deployment" && m.file === "maestro.yaml");
    expect(deployments.map((d) => d.object.metadata?.name).sort()).toEqual(
      ["management-api", "metrics-reporter", "rooms-api", "runtime-watcher", "worker"].map((m) => `maestro-${m}`),
    );
    expect(all.filter((m) => m.object.kind === "Service" && m.file === "maestro.yaml")).toHaveLength(2);

    // Namespaced objects can only be dry-run into a namespace that exists: dry-run the Namespace, then create it.
    const dryRunFirst = all.filter((m) => m.object.kind === "Namespace");
    const rest = all.filter((m) => m.object.kind !== "Namespace");
    for (const { file, object } of [...dryRunFirst, ...rest]) {
      if (object.kind !== "Namespace" && !createdNamespace) {
        try {
          await core.createNamespace({ body: { metadata: { name: "maestro" } } });
          createdNamespace = true;
        } catch (err) {
          if ((err as { code?: number }).code !== 409) throw err;
        }
      }
      const what = `${file}: ${object.kind} ${object.metadata?.name}`;
      // On the real node's cluster Maestro is deployed already: there the manifest is dry-run as a replacement.
      const created = await objects
        .create(object, undefined, "All")
        .catch(async (err: unknown) => {
          if ((err as { code?: number }).code !== 409) throw err;
          const current = await objects.read({
            ...object,
            metadata: { name: object.metadata?.name ?? "", namespace: object.metadata?.namespace },
          });
          return objects.replace(
            { ...object, metadata: { ...object.metadata, resourceVersion: current.metadata?.resourceVersion } },
            undefined,
            "All",
          );
        })
        .catch((err: unknown) => {
          throw new Error(`${what} refused: ${(err as { body?: string }).body ?? err}`);
        });
      expect(created.metadata?.name, what).toBe(object.metadata?.name);
    }

    // What the runtime calls, granted to its service account: room logs (pods/log) and kubelet summaries among them.
    const role = all.find((m) => m.object.kind === "ClusterRole")?.object as unknown as {
      rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
    };
    const granted = (group: string, resource: string, verb: string) =>
      role.rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));
    for (const [group, resource, verbs] of [
      ["", "pods", ["get", "list", "watch", "create", "delete", "deletecollection"]],
      ["", "pods/log", ["get"]],
      ["", "nodes", ["get", "list", "watch"]],
      ["", "nodes/proxy", ["get"]],
      ["", "namespaces", ["create", "delete"]],
      ["", "events", ["create"]],
      ["policy", "poddisruptionbudgets", ["get", "create", "update"]],
    ] as const) {
      for (const verb of verbs) expect(granted(group, resource, verb), `${verb} ${resource}`).toBe(true);
    }

    const kustomization = await readFile(join(deployDir, "kustomization.yaml"), "utf8");
    for (const file of new Set(all.map((m) => m.file))) expect(kustomization).toContain(file);
  });
});
