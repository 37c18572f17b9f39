#!/usr/bin/env node
// Runs the TypeScript sources directly (tsx), so `npx rampart` works right after `npm ci`.
require('tsx/cjs'); // eslint-disable-line @typescript-eslint/no-require-imports -- a CommonJS entry point: tsx's require hook must load before the sources

// `rampart replay | head`: a closed pipe ends the run quietly
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
const { run } = require('../cli/main.ts'); // eslint-disable-line @typescript-eslint/no-require-imports -- CommonJS, loaded through tsx's hook

run(process.argv, { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`rampart: ${error && error.message ? error.message : error}\n`);
    process.exitCode = 2;
  },
);
