// The local cluster's DNS records: every Service's cluster IP under `<name>.<namespace>.svc.cluster.local`, written
// as a hosts file for dnsmasq (which rereads it on SIGHUP). A stand-in for CoreDNS, which would need an image built
// here; Services are all the room and Maestro pods look up.
//   node dns-hosts.mjs <kubeconfig> <hosts file> <dnsmasq pid file>
import { readFile, rename, writeFile } from "node:fs/promises";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";

const [kubeconfig, hostsFile, pidFile] = process.argv.slice(2);
const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
const core = kc.makeApiClient(CoreV1Api);
let last = "";
for (;;) {
  try {
    const services = await core.listServiceForAllNamespaces();
    const lines = services.items
      .filter((s) => s.spec?.clusterIP && s.spec.clusterIP !== "None")
      .map((s) => `${s.spec.clusterIP} ${s.metadata.name}.${s.metadata.namespace}.svc.cluster.local`)
      .sort();
    const text = `${lines.join("\n")}\n`;
    if (text !== last) {
      await writeFile(`${hostsFile}.new`, text);
      await rename(`${hostsFile}.new`, hostsFile);
      const pid = Number((await readFile(pidFile, "utf8")).trim());
      if (pid > 0) process.kill(pid, "SIGHUP");
      last = text;
    }
  } catch (err) {
    console.error(`dns-hosts: ${err.message}`);
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
}
