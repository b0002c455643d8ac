import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/**
 * The Kubernetes suite (server/test/k8s): only through `npm run test:k8s`, which starts the local control plane and
 * sets MAESTRO_TEST_KUBECONFIG. Plain `npm test` leaves these files out.
 */
export default defineConfig({
  test: {
    root: fileURLToPath(new URL("../../server", import.meta.url)),
    include: ["test/k8s/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
