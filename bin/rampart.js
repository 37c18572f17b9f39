#!/usr/bin/env node
// Runs the precompiled CLI in dist/ (built by `npm ci` through the `prepare` script, or `npm run
// build:cli`), so a command starts without compiling TypeScript; without dist/ (a checkout not
// installed with npm ci), the TypeScript sources through tsx.
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS entry point (npm's bin) */
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');
const { enableCompileCache } = require('node:module');
/* eslint-enable @typescript-eslint/no-require-imports */

// Node.js 22.1+ keeps the bundle's compiled code on disk (NODE_COMPILE_CACHE, else the temp
// directory): a command after the first skips compiling it, about a fifth of a small replay.
// Quiet by design (never throws); absent on Node.js 20; NODE_DISABLE_COMPILE_CACHE=1 turns it off.
// The replay's worker threads inherit the directory through the environment (Node's own advice).
const compileCache = enableCompileCache?.();
if (compileCache?.directory) process.env.NODE_COMPILE_CACHE ??= compileCache.directory;

// `rampart replay | head`: a closed pipe ends the run quietly
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const bundle = join(__dirname, '../dist/main.mjs');
const cli = existsSync(bundle)
  ? import(pathToFileURL(bundle).href)
  : // tsx's hooks for require and import() (the CLI loads each command with import()), as `node --import tsx`
    import('tsx').then(() => import(pathToFileURL(join(__dirname, '../cli/main.ts')).href)).then((module) => module.default); // a CommonJS module's exports

cli
  .then(({ run }) => run(process.argv, { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      process.stderr.write(`rampart: ${error && error.message ? error.message : error}\n`);
      process.exitCode = 2;
    },
  );
