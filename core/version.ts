import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

let version: string | undefined;

/**
 * Rampart's version, from its package.json: `rampart --version`, the SARIF/OCSF/ASFF documents,
 * the stack's `Version` output and `rampart doctor`, which compares the last two. core/ and
 * dist/ are both one level below the package root, so the path holds in the CLI bundle too.
 */
export function rampartVersion(): string {
  version ??= (JSON.parse(readFileSync(resolve(__dirname, '../package.json'), 'utf8')) as { version: string }).version;
  return version;
}
