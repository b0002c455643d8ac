import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/cli.ts", "src/index.ts", "src/plugin.ts"],
  format: ["esm"],
  dts: { entry: ["src/index.ts", "src/plugin.ts"] },
  clean: true,
  sourcemap: true,
  target: "node20",
  // SQL migrations are read at run time from dist/migrations.
  onSuccess: "mkdir -p dist/migrations && cp src/adapters/storage/sql/migrations/*.sql dist/migrations/",
});
