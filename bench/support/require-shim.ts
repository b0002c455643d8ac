// Import this first in a bench entry. The bench runner bundles each entry as one ESM file; CommonJS dependencies
// bundled into it (fastify, yaml, undici…) call require() for Node built-ins, which ESM does not define. esbuild's
// require wrapper looks the global up at call time, so defining it here, before those modules run, is enough.
import { createRequire } from "node:module";

const scope = globalThis as { require?: NodeJS.Require };
scope.require ??= createRequire(import.meta.url);
