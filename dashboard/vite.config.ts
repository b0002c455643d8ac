import { defineConfig } from "vite";

const maestro = process.env.MAESTRO_URL ?? "http://127.0.0.1:8080";

// Served by the management API under /ui/ (server/src/api/dashboard). `npm run dev -w @maestro/dashboard` serves the
// sources with reload and forwards the API calls (Connect paths and /ui/api) to a running maestro.
export default defineConfig({
  base: "/ui/",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
  server: { proxy: { "/maestro.v1.": maestro, "/ui/api": maestro } },
});
