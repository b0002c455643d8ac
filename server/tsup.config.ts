import { defineConfig } from "tsup";

// `build:js` (what `npm start` runs, `--env.JS_ONLY 1`) emits JavaScript only: the declarations are for package
// consumers and typecheck, and generating them is nearly all of the build's time. It keeps what dist/ holds.
export default defineConfig((options) => {
  const jsOnly = Boolean(options.env?.JS_ONLY);
  return {
    entry: ["src/cli.ts", "src/index.ts", "src/plugin.ts"],
    format: ["esm"],
    dts: jsOnly ? false : { entry: ["src/index.ts", "src/plugin.ts"] },
    clean: !jsOnly,
    sourcemap: true,
    target: "node20",
    // SQL migrations and Redis Lua scripts are read at run time from dist/migrations and dist/scripts.
    onSuccess:
      "mkdir -p dist/migrations && cp src/adapters/storage/sql/migrations/*.sql dist/migrations/ && mkdir -p dist/scripts && cp src/adapters/storage/redis/scripts/*.lua dist/scripts/",
  };
});
