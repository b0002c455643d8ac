#!/usr/bin/env node
// Adds up vitest's per-package "Tests  N passed | M failed" lines from a turbo log into one closing line that any CI
// reader understands (several logs add up): "N passed, M failed[, K skipped]".
import { readFileSync } from "node:fs";

const ESC = String.fromCharCode(27);
const text = process.argv
  .slice(2)
  .map((file) => readFileSync(file, "utf8"))
  .join("\n")
  .replaceAll(new RegExp(`${ESC}\\[[0-9;]*m`, "g"), "");
let passed = 0;
let failed = 0;
let skipped = 0;
for (const line of text.split("\n")) {
  const m = /\bTests\s+(.*)\(\d+\)\s*$/.exec(line);
  if (!m) continue;
  passed += Number(/(\d+) passed/.exec(m[1])?.[1] ?? 0);
  failed += Number(/(\d+) failed/.exec(m[1])?.[1] ?? 0);
  skipped += Number(/(\d+) skipped/.exec(m[1])?.[1] ?? 0);
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
