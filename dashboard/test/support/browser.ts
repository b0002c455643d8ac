import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";

export const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const artifactsDir = fileURLToPath(new URL("../../test-artifacts/", import.meta.url));

// Without the background-networking flags Chromium keeps dialling Google's hosts, which this closed network refuses.
const flags = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface TestBrowser {
  browser: Browser;
  /** A fresh page (own context, so own localStorage) collecting uncaught page errors and CSP violations. */
  newPage(): Promise<Page & { pageErrors: string[] }>;
  close(): Promise<void>;
}

/** Debian's Chromium driven by playwright-core (never a downloaded browser). */
export async function launchBrowser(): Promise<TestBrowser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(`${chromiumPath} is missing: install Debian's chromium (scripts/services does it)`);
  }
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    // Playwright gives each launch a new empty --user-data-dir of its own.
    args: flags,
  });
  await mkdir(artifactsDir, { recursive: true });
  return {
    browser,
    async newPage() {
      const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
      const page = Object.assign(await context.newPage(), { pageErrors: [] as string[] });
      page.on("pageerror", (err) => page.pageErrors.push(String(err)));
      // The server's Content-Security-Policy must not block any part of the page.
      page.on("console", (msg) => {
        if (msg.text().includes("Content Security Policy")) page.pageErrors.push(msg.text());
      });
      // Actions ask for confirmation; the tests mean them.
      page.on("dialog", (d) => void d.accept());
      return page;
    },
    async close() {
      await browser.close();
    },
  };
}
