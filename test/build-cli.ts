// jest globalSetup: the end-to-end tests run bin/rampart.js, which runs the bundle in dist/ when
// there is one; built here from the sources under test, the bundle is never stale in a test
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export default function buildCli(): void {
  execFileSync(process.execPath, [join(__dirname, '../scripts/build-cli.mjs')], { stdio: 'inherit' });
}
