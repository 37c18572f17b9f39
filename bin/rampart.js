#!/usr/bin/env node
// Runs the TypeScript sources directly (tsx), so `npx rampart` works right after `npm ci`.
require('tsx/cjs');
const { run } = require('../cli/main.ts');

run(process.argv, { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`rampart: ${error && error.message ? error.message : error}\n`);
    process.exitCode = 2;
  },
);
