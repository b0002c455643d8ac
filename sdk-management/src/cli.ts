#!/usr/bin/env node
import { runCli } from "./cli/program.js";

const controller = new AbortController();
// First Ctrl-C stops waiting (the server keeps running the operation); a second one exits at once.
process.once("SIGINT", () => {
  controller.abort();
  process.once("SIGINT", () => process.exit(130));
});

runCli(process.argv, { stdout: process.stdout, stderr: process.stderr, env: process.env }, controller.signal).then(
  (code) => {
    process.exitCode = code;
  },
);
