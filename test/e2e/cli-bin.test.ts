import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');

/** The installed entry point, as `npx rampart` runs it: a real process, real stdout and exit code. */
describe('bin/rampart.js', () => {
  it('replays the bundled incident as NDJSON and exits 0', () => {
    const result = spawnSync(process.execPath, [join(ROOT, 'bin/rampart.js'), 'replay', '--json'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });

    expect(result.status).toBe(0);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; findings?: number });
    expect(lines.at(-1)?.type).toBe('summary');
    expect(lines.at(-1)?.findings).toBeGreaterThan(5);
  });

  it('exits 2 with a message, not a stack trace, on a bad command', () => {
    const result = spawnSync(process.execPath, [join(ROOT, 'bin/rampart.js'), 'replya'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });

    expect(result.status).toBe(2);
    expect(result.stderr).toContain("unknown command 'replya'");
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
