#!/usr/bin/env node
// A committed entry point, so npm links the command at install time even before the first build.
import("../dist/cli.js").catch((err) => {
  if (err?.code === "ERR_MODULE_NOT_FOUND") {
    process.stderr.write("maestroctl: not built yet — run `npm run build` at the repository root first\n");
    process.exit(1);
  }
  throw err;
});
