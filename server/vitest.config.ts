import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Needs a Kubernetes API server: `npm run test:k8s` runs these (test/k8s/vitest.config.ts).
    exclude: ["test/k8s/**", "**/node_modules/**"],
    // Two cores: real Postgres, PGlite and child processes do not gain from parallel files.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
