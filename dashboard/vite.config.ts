import { defineConfig } from "vite";

// Served by the management API under /ui/ (server/src/api/dashboard); `npm run dev` proxies the API to a local maestro.
export default defineConfig({
  base: "/ui/",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", chunkSizeWarningLimit: 1000 },
  server: {
    proxy: {
      "^/(?!ui/)": { target: process.env.MAESTRO_URL ?? "http://127.0.0.1:8080" },
      "/ui/api": "http://127.0.0.1:8080",
    },
  },
});
