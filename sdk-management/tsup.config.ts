import { defineConfig } from "tsup";

// `build:js` (what `npm start` runs, `--env.JS_ONLY 1`) emits JavaScript only: declarations are for consumers and
// typecheck, and most of the build's time.
export default defineConfig((options) => {
  const jsOnly = Boolean(options.env?.JS_ONLY);
  return [
    {
      entry: ["src/index.ts"],
      format: ["esm", "cjs"],
      dts: !jsOnly,
      clean: !jsOnly,
      sourcemap: true,
      target: "node20",
    },
    { entry: ["src/cli.ts"], format: ["esm"], sourcemap: true, target: "node20" },
    // The browser entry: ESM only; it must not pull in @connectrpc/connect-node (see web.ts).
    {
      entry: ["src/web.ts"],
      format: ["esm"],
      dts: !jsOnly,
      sourcemap: true,
      target: "es2022",
      platform: "browser",
    },
  ];
});
