import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const ROOT = join(__dirname, '../..');
const LOG = readFileSync(join(ROOT, 'test/fixtures/cloudtrail-LogFile.mixed-constructed.json'));

/** `cat *.json.gz | rampart replay -` and `zcat ... |` in a real process, through a real pipe. */
describe('rampart replay - (stdin of a real process)', () => {
  const replay = (input: Buffer) => {
    const result = spawnSync(process.execPath, [join(ROOT, 'bin/rampart.js'), 'replay', '--json', '-'], {
      cwd: ROOT,
      input,
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { status: result.status, summary: JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Record<string, unknown> };
  };

  it('reads every log of concatenated gzip files (cat *.json.gz)', () => {
    const r = replay(Buffer.concat([gzipSync(LOG), gzipSync(LOG), gzipSync(LOG)]));

    expect(r.status).toBe(0);
    expect(r.summary).toMatchObject({ events: 9, findings: 3, errors: 0 });
  });

  it('reads every log of decompressed logs back to back (zcat *.json.gz)', () => {
    const minified = Buffer.from(JSON.stringify(JSON.parse(LOG.toString('utf8'))));

    const r = replay(Buffer.concat([minified, LOG, minified]));

    expect(r.status).toBe(0);
    expect(r.summary).toMatchObject({ events: 9, findings: 3, errors: 0 });
  });
});
