import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONTROL_IDS } from '../../controls';

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

/**
 * The sources of every bundle file the process loads: an ES module loader hook logs each file
 * URL, and each dist/ chunk's source map names what it was built from.
 */
function loadedSources(args: string[]): { status: number | null; stdout: string; sources: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-start-'));
  const log = join(dir, 'loaded.txt');
  const hooks = `import { appendFileSync } from 'node:fs';
    export async function load(url, context, next) { if (url.startsWith('file:')) appendFileSync(${JSON.stringify(log)}, url + '\\n'); return next(url, context); }`;
  const preload = join(dir, 'preload.mjs');
  writeFileSync(
    preload,
    `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`,
  );
  writeFileSync(log, '');
  const result = spawnSync(process.execPath, ['--import', preload, join(ROOT, 'bin/rampart.js'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  const files = readFileSync(log, 'utf8')
    .split('\n')
    .filter((url) => url.includes('/dist/') && url.endsWith('.mjs'))
    .map((url) => fileURLToPath(url));
  const sources = files.flatMap((file) => (JSON.parse(readFileSync(`${file}.map`, 'utf8')) as { sources: string[] }).sources);
  return { status: result.status, stdout: result.stdout, sources };
}

describe('rampart start-up', () => {
  it('--help loads neither the control registry nor zod nor yaml, only commander and the command table', () => {
    const r = loadedSources(['--help']);

    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: rampart');
    expect(r.sources.some((s) => s.endsWith('cli/main.ts'))).toBe(true);
    expect(r.sources.filter((s) => /(^|\/)(controls|detectors|remediators)\/|node_modules\/(zod|yaml)\//.test(s))).toEqual([]);
  });

  it.each([
    ['replay', '--help'],
    ['scan', '--help'],
    ['help', 'replay'],
  ])('%s %s lists every registered control under --control', (...args) => {
    const r = loadedSources(args);

    expect(r.status).toBe(0);
    const help = r.stdout.replace(/\s+/g, ' ');
    for (const id of CONTROL_IDS) expect(help).toContain(id);
  });

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
