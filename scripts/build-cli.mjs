#!/usr/bin/env node
/**
 * Builds the `rampart` CLI into dist/ (`npm run build:cli`; `npm ci` runs it as `prepare`):
 * ES modules split into chunks, so a command loads the code it runs and nothing more
 * (`--help` loads neither the policy schema nor any SDK client). bin/rampart.js runs dist/ when
 * it is there, else the TypeScript sources through tsx. The AWS SDK packages stay in
 * node_modules, loaded on first use.
 */
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import process from 'node:process';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
// dist/ is as deep as cli/: the sources' paths to the package's files (examples/) hold in the bundle
const OUT = join(ROOT, 'dist');

// ES modules have no require, __filename or __dirname: the lazy SDK loads and the package paths use them
const BANNER = [
  "import { createRequire as __createRequire } from 'node:module';",
  "import { dirname as __pathDirname } from 'node:path';",
  "import { fileURLToPath as __fileURLToPath } from 'node:url';",
  'const require = __createRequire(import.meta.url);',
  'const __filename = __fileURLToPath(import.meta.url);',
  'const __dirname = __pathDirname(__filename);',
].join('\n');

/**
 * zod re-exports all its ~50 message locales as a namespace (`z.locales`); the policy schema
 * (zod) and the event schemas (zod/mini) share them, so code splitting puts 260 KB of
 * translations in the chunk every command loads. Rampart uses none but English.
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]/.test(args.importer)
        ? { path: join(dirname(args.importer), '../locales/en.js'), namespace: 'zod-locales' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      resolveDir: dirname(args.path),
    }));
  },
};

async function buildCli() {
  rmSync(OUT, { recursive: true, force: true });
  await build({
    absWorkingDir: ROOT,
    entryPoints: { main: 'cli/main.ts', 'replay-worker': 'cli/replay-worker.ts' },
    outdir: OUT,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    minify: true,
    sourcemap: 'linked',
    external: ['@aws-sdk/client-*', '@aws-sdk/lib-*', '@aws-lambda-powertools/*'],
    banner: { js: BANNER },
    plugins: [zodEnglishOnly],
    logLevel: 'warning',
  });
}

try {
  await buildCli();
} catch (error) {
  process.stderr.write(`build-cli: ${error && error.message ? error.message : error}\n`);
  process.exit(1);
}
