import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

let version: string | undefined;

/** Rampart's version, from its package.json (`rampart --version`, SARIF/OCSF/ASFF documents, `doctor`). */
export function rampartVersion(): string {
  version ??= (JSON.parse(readFileSync(resolve(__dirname, '../package.json'), 'utf8')) as { version: string }).version;
  return version;
}
