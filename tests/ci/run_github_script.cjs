#!/usr/bin/env node
// Runs the body of an actions/github-script step the way that action does (an async function of
// require, github, context and core), with an in-memory GitHub: `node run_github_script.cjs SCRIPT WORLD`.
// WORLD is a JSON file {"context": {...}, "comments": [...]}; the script's environment is this process's.
// Prints {"calls": [[method, params], ...], "summary": "...", "notices": [...], "failed": null|message}.
"use strict";

const { readFileSync } = require("node:fs");

async function main([scriptPath, worldPath]) {
  const script = readFileSync(scriptPath, "utf-8");
  const world = JSON.parse(readFileSync(worldPath, "utf-8"));
  const calls = [];
  const out = { calls, summary: "", notices: [], failed: null };
  const record = (name, result) => async (params) => {
    calls.push([name, params]);
    return { data: typeof result === "function" ? result(params) : result };
  };
  const github = {
    rest: {
      issues: {
        listComments: record("issues.listComments", () => world.comments ?? []),
        listForRepo: record("issues.listForRepo", () => world.issues ?? []),
        createComment: record("issues.createComment", { id: 999 }),
        updateComment: record("issues.updateComment", { id: 999 }),
        create: record("issues.create", { number: 1 }),
      },
    },
    paginate: async (method, params) => (await method(params)).data,
  };
  const summary = {
    addRaw(text) {
      out.summary += text;
      return summary;
    },
    async write() {
      return summary;
    },
  };
  const core = {
    summary,
    notice: (message) => out.notices.push(String(message)),
    setFailed: (message) => {
      out.failed = String(message);
    },
  };
  const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
  await new AsyncFunction("require", "github", "context", "core", script)(require, github, world.context, core);
  process.stdout.write(JSON.stringify(out));
}

main(process.argv.slice(2)).catch((error) => {
  process.stderr.write(`the script failed: ${error.stack || error}\n`);
  process.exit(2);
});
