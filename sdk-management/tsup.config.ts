import { defineConfig } from "tsup";

export default defineConfig([
  { entry: ["src/index.ts"], format: ["esm", "cjs"], dts: true, clean: true, sourcemap: true, target: "node20" },
  { entry: ["src/cli.ts"], format: ["esm"], sourcemap: true, target: "node20" },
  // The browser entry: ESM only; it must not pull in @connectrpc/connect-node (see web.ts).
  { entry: ["src/web.ts"], format: ["esm"], dts: true, sourcemap: true, target: "es2022", platform: "browser" },
]);
