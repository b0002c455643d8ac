import { readFile, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, extname, join, resolve, sep } from "node:path";

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".map": "application/json",
  ".woff2": "font/woff2",
};

export interface StaticFile {
  body: Buffer;
  contentType: string;
  /** Vite puts a content hash in the names of files under assets/, so they may be cached for good. */
  immutable: boolean;
}

/**
 * Where the built dashboard is: the `dist` folder of the @maestro/dashboard package, found the way Node finds a
 * package, so it works from the workspace and from an install. The server does not depend on the dashboard (the
 * dashboard's tests start the server), hence the lookup at run time; undefined when it is not installed.
 */
export function findDashboardDist(): string | undefined {
  try {
    const pkg = createRequire(import.meta.url).resolve("@maestro/dashboard/package.json");
    return join(dirname(pkg), "dist");
  } catch {
    return undefined;
  }
}

/**
 * Reads a file below `root` for a URL path under /ui/. Paths that leave `root` are refused; unknown paths get
 * index.html so that reloading a page of the single-page app works.
 */
export async function readStaticFile(root: string, urlPath: string): Promise<StaticFile | undefined> {
  let rel: string;
  try {
    rel = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  const base = resolve(root);
  const file = resolve(base, `.${rel.startsWith("/") ? rel : `/${rel}`}`);
  if (file !== base && !file.startsWith(base + sep)) return undefined;
  const found = (await isFile(file)) ? file : join(base, "index.html");
  if (!(await isFile(found))) return undefined;
  return {
    body: await readFile(found),
    contentType: contentTypes[extname(found)] ?? "application/octet-stream",
    immutable: found.startsWith(join(base, "assets") + sep),
  };
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
