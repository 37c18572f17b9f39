import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { BUNDLED_POLICY } from '../../cli/io';
import { run } from '../../cli/main';
import { changeCalls } from '../../cli/findings-table';
import { FIXTURES, jsonLines, runCli } from '../helpers';

/** Runs replay with stdout as a terminal of `columns` (or a pipe), in the environment given. */
async function onTerminal(args: string[], opts: { columns?: number; tty?: boolean; env?: Record<string, string | undefined> } = {}) {
  const stdout = Object.assign(new PassThrough(), { isTTY: opts.tty ?? false, columns: opts.columns });
  const out: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    const code = await run(['node', 'rampart', ...args], { stdout, stderr: new PassThrough(), stdin: Readable.from([]) });
    return { code, text: Buffer.concat(out).toString('utf8') };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

// eslint-disable-next-line no-control-regex -- the colour codes Rampart writes itself
const visibleWidth = (line: string) => line.replace(/\u001b\[[0-9;]*m/g, '').length;

describe('the findings table', () => {
  it.each([80, 160])('fits a terminal of %i columns, with --plan too', async (columns) => {
    for (const args of [
      ['replay', '--config', BUNDLED_POLICY],
      ['replay', '--plan', '--config', BUNDLED_POLICY],
    ]) {
      const { text } = await onTerminal(args, { columns, tty: true, env: { NO_COLOR: '1' } });
      const longest = Math.max(...text.split('\n').map(visibleWidth));
      expect(longest).toBeLessThanOrEqual(columns);
    }
  });

  it('fits 80 columns on a pipe (COLUMNS unset) and COLUMNS when set', async () => {
    const pipe = await onTerminal(['replay', '--config', BUNDLED_POLICY], { env: { COLUMNS: undefined } });
    const wide = await onTerminal(['replay', '--config', BUNDLED_POLICY], { env: { COLUMNS: '160' } });
    expect(Math.max(...pipe.text.split('\n').map(visibleWidth))).toBeLessThanOrEqual(80);
    expect(Math.max(...wide.text.split('\n').map(visibleWidth))).toBeGreaterThan(80);
  });

  it('shows one block per resource with each finding once: severity and the violation sentence', async () => {
    const lines = jsonLines((await runCli(['replay', '--json', '--config', BUNDLED_POLICY])).stdout).filter((l) => l.type === 'finding');
    const { text } = await onTerminal(['replay', '--config', BUNDLED_POLICY], { columns: 400, tty: true, env: { NO_COLOR: '1' } });
    const resources = [...new Set(lines.map((l) => String(l.resourceArn)))];
    const pairs = new Set(lines.map((l) => `${String(l.control)} ${String(l.resourceArn)}`));

    for (const arn of resources) expect(text.split('\n').filter((l) => l.startsWith(arn))).toHaveLength(1);
    const findingRows = text.split('\n').filter((l) => /^ {2}(HIGH|MEDIUM|LOW)\s/.test(l));
    expect(findingRows).toHaveLength(pairs.size);
    // a resource's latest event per control is the one shown
    const last = lines.filter((l) => l.resourceArn === resources[0]).at(-1)!;
    expect(text).toContain(`${String(last.severity).toUpperCase()}`);
    expect(text).toContain(String(last.violation));
  });

  it('sorts resources by the time of their first finding, in one time format', async () => {
    const lines = jsonLines((await runCli(['replay', '--json', '--config', BUNDLED_POLICY])).stdout).filter((l) => l.type === 'finding');
    const first = new Map<string, number>();
    for (const l of lines)
      first.set(String(l.resourceArn), Math.min(first.get(String(l.resourceArn)) ?? Infinity, Date.parse(String(l.eventTime))));
    const expected = [...first].sort((a, b) => a[1] - b[1]).map(([arn]) => arn);
    const { text } = await onTerminal(['replay', '--config', BUNDLED_POLICY], { columns: 400, env: { NO_COLOR: '1' } });
    const shown = text
      .split('\n')
      .filter((l) => l.startsWith('arn:'))
      .map((l) => l.split(' ')[0]);

    expect(shown).toEqual(expected);
    expect(text).toMatch(/^ {9}\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z/m);
    expect(text).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}/);
  });

  it('colours severities on a terminal only, and never with NO_COLOR', async () => {
    const tty = await onTerminal(['replay', '--config', BUNDLED_POLICY], {
      tty: true,
      columns: 120,
      env: { NO_COLOR: undefined, TERM: 'xterm' },
    });
    const noColor = await onTerminal(['replay', '--config', BUNDLED_POLICY], { tty: true, columns: 120, env: { NO_COLOR: '1' } });
    const pipe = await onTerminal(['replay', '--config', BUNDLED_POLICY], { env: { NO_COLOR: undefined } });

    expect(tty.text).toContain('\u001b[');
    expect(noColor.text).not.toContain('\u001b');
    expect(pipe.text).not.toContain('\u001b');
  });

  it('--plan shows the change once per resource and control, as "would fix" when nothing is applied', async () => {
    const { text } = await onTerminal(['replay', '--plan', '--config', BUNDLED_POLICY], { columns: 400 });
    const fixes = text.split('\n').filter((l) => /^ {9}(would fix|fix|no fix)/.test(l));
    const rows = text.split('\n').filter((l) => /^ {2}(HIGH|MEDIUM|LOW)\s/.test(l));

    expect(fixes).toHaveLength(rows.length);
    expect(fixes.every((l) => /^ {9}(would fix|no fix)/.test(l))).toBe(true);
    expect(text).not.toContain('Planned changes:');
  });

  it('shows every call of a fix with follow-ups, in order, and its notice', () => {
    const update = { service: 'apigateway', region: 'us-east-1' };
    const text = changeCalls({
      ...update,
      operation: 'UpdateMethod',
      input: {
        restApiId: 'a1',
        resourceId: 'r1',
        httpMethod: 'POST',
        patchOperations: [{ op: 'replace', path: '/authorizationType', value: 'AWS_IAM' }],
      },
      followUps: [{ ...update, operation: 'CreateDeployment', input: { restApiId: 'a1', stageName: 'prod' } }],
      notice: 'A deployment also ships every other undeployed change of the API.',
    });

    expect(text).toBe(
      'UpdateMethod restApiId=a1 resourceId=r1 httpMethod=POST: replace /authorizationType = AWS_IAM; then CreateDeployment {"restApiId":"a1","stageName":"prod"}. ' +
        'A deployment also ships every other undeployed change of the API.',
    );
  });

  it('shows what a throttling fix really writes: a stricter current burst limit is kept, not shown as loosened', async () => {
    const event = JSON.parse(readFileSync(join(FIXTURES, 'apigateway-UpdateStage.throttle-over-constructed.json'), 'utf8')) as {
      detail: { requestParameters: { updateStageInput: { patchOperations: Array<{ path: string; value: string }> } } };
    };
    // rate above the policy's 1000, burst 50: stricter than the policy's 500
    event.detail.requestParameters.updateStageInput.patchOperations = [
      { op: 'replace', path: '/*/*/throttling/rateLimit', value: '2000' },
      { op: 'replace', path: '/*/*/throttling/burstLimit', value: '50' },
    ] as never;
    const dir = mkdtempSync(join(tmpdir(), 'rampart-table-'));
    writeFileSync(join(dir, 'e.json'), JSON.stringify(event));
    const { text } = await onTerminal(['replay', '--plan', '--config', BUNDLED_POLICY, join(dir, 'e.json')], { columns: 400 });

    expect(text).toContain('replace /*/*/throttling/rateLimit = 1000');
    expect(text).not.toContain('burstLimit = 500');
    expect(text).not.toMatch(/burst\w* (limit )?500/i);
  });
});

describe('--fail-on', () => {
  it('exits 3 when a finding at or above the severity is found, 0 below it', async () => {
    const high = await runCli(['replay', '--json', '--config', BUNDLED_POLICY, '--fail-on', 'high']);
    const severities = new Set(
      jsonLines(high.stdout)
        .filter((l) => l.type === 'finding')
        .map((l) => l.severity),
    );
    expect(severities.has('high')).toBe(true);
    expect(high.code).toBe(3);

    const s3Only = join(FIXTURES, 's3-PutBucketEncryption.aes256-constructed.json'); // a medium finding
    expect((await runCli(['replay', '--config', BUNDLED_POLICY, '--fail-on', 'high', s3Only])).code).toBe(0);
    expect((await runCli(['replay', '--config', BUNDLED_POLICY, '--fail-on', 'medium', s3Only])).code).toBe(3);
    expect((await runCli(['replay', '--config', BUNDLED_POLICY, '--fail-on', 'low', '--format', 'sarif', s3Only])).code).toBe(3);
  });

  it('refuses a severity that does not exist, in one line', async () => {
    const result = await runCli(['replay', '--config', BUNDLED_POLICY, '--fail-on', 'critical']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("argument 'critical' is invalid. Allowed choices are low, medium, high.");
  });
});
