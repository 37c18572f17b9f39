import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');

/**
 * What a command loads at start: bin/rampart.js runs the bundle in dist/ (built by `npm ci`,
 * and by the tests' global setup), never tsx, and a command loads only the SDK clients it
 * uses. A preloaded script lists every package the process requires.
 */
function loadedPackages(args: string[]): { status: number | null; packages: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-start-'));
  const log = join(dir, 'loaded.txt');
  const preload = join(dir, 'preload.js');
  writeFileSync(
    preload,
    `const M = require('node:module'); const fs = require('node:fs'); const seen = new Set(); const load = M._load;
     M._load = function (request, ...rest) { const m = /^(@[^/]+\\/[^/]+|[^./][^/]*)/.exec(request); if (m && !request.startsWith('node:')) seen.add(m[1]); return load.call(this, request, ...rest); };
     process.on('exit', () => fs.writeFileSync(${JSON.stringify(log)}, [...seen].join('\\n')));`,
  );
  const result = spawnSync(process.execPath, ['--require', preload, join(ROOT, 'bin/rampart.js'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, packages: readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

describe('rampart start-up', () => {
  it('--help runs the bundle and loads no SDK client, no tsx', () => {
    const r = loadedPackages(['--help']);

    expect(r.status).toBe(0);
    expect(r.packages.filter((p) => p.startsWith('@aws-sdk/') || p === 'tsx')).toEqual([]);
  });

  it('replay of a small file loads no SDK client', () => {
    const r = loadedPackages(['replay', '--json', join(ROOT, 'test/fixtures/cloudtrail-LogFile.mixed-constructed.json')]);

    expect(r.status).toBe(0);
    expect(r.packages.filter((p) => p.startsWith('@aws-sdk/client-') || p === 'tsx')).toEqual([]);
  });
});
