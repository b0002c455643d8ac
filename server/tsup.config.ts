import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/cli.ts", "src/index.ts", "src/plugin.ts"],
  format: ["esm"],
  dts: { entry: ["src/index.ts", "src/plugin.ts"] },
  clean: true,
  sourcemap: true,
  target: "node20",
  // SQL migrations and Redis Lua scripts are read at run time from dist/migrations and dist/scripts.
  onSuccess:
    "mkdir -p dist/migrations && cp src/adapters/storage/sql/migrations/*.sql dist/migrations/ && mkdir -p dist/scripts && cp src/adapters/storage/redis/scripts/*.lua dist/scripts/",
});
