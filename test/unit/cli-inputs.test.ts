import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { BUNDLED_POLICY } from '../../cli/io';
import { run } from '../../cli/main';
import { FIXTURES, jsonLines, runCli } from '../helpers';

const EVENT = join(FIXTURES, 's3-PutBucketEncryption.aes256-constructed.json');

describe('rampart on empty and odd inputs', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'rampart-inputs-'));

  it('warns about a directory without event files and an empty file', async () => {
    const dir = join(tmp, 'empty-dir');
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.txt'), 'not events');
    const file = join(tmp, 'empty.json');
    writeFileSync(file, '');
    const result = await runCli(['replay', '--config', BUNDLED_POLICY, dir, file]);

    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`warning: ${dir} holds no event files`);
    expect(result.stderr).toContain(`warning: ${file} holds no events`);
  });

  it("warns that --control '' names no control, and that a control the policy does not enable judges nothing", async () => {
    const policy = join(tmp, 'only-s3.yaml');
    writeFileSync(policy, 'controls:\n  s3-default-encryption: { algorithm: AES256 }\n');
    const empty = await runCli(['replay', '--config', policy, '--control', '', EVENT]);
    const off = await runCli(['replay', '--config', policy, '--control', 'apigateway-waf', EVENT]);

    expect(empty.stderr).toContain("warning: --control names no control (--control '')");
    expect(off.stderr).toContain(`warning: ${policy} does not enable apigateway-waf: nothing is judged for it`);
  });

  it('says it waits for stdin when `replay -` reads a terminal', async () => {
    const stdin = Object.assign(Readable.from([Buffer.from('')]), { isTTY: true });
    const stderr = new PassThrough();
    const err: Buffer[] = [];
    stderr.on('data', (c: Buffer) => err.push(c));
    await run(['node', 'rampart', 'replay', '--config', BUNDLED_POLICY, '-'], { stdout: new PassThrough(), stderr, stdin });

    expect(Buffer.concat(err).toString()).toContain('reading events from stdin (paste or pipe them; end with Ctrl-D)');
  });

  it('never prints control characters of a path raw', async () => {
    const result = await runCli(['replay', '--config', BUNDLED_POLICY, join(tmp, 'evil\u001b]0;owned\u0007.json')]);

    expect(result.stderr).toContain('evil\\u001b]0;owned\\u0007.json');
    expect(result.stderr + result.stdout).not.toContain('\u001b');
    expect(result.stderr + result.stdout).not.toContain('\u0007');
  });

  describe('--json when the fixes fail', () => {
    const sts = mockClient(STSClient);
    afterAll(() => sts.restore());

    it('prints a failed remediation line for every finding when no credentials are found, and exits 2', async () => {
      sts
        .on(GetCallerIdentityCommand)
        .rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
      const result = await runCli(['replay', '--json', '--apply', '--config', BUNDLED_POLICY, EVENT]);
      const lines = jsonLines(result.stdout);

      expect(result.code).toBe(2);
      expect(lines.find((l) => l.type === 'summary')).toMatchObject({ findings: 1 });
      expect(lines.filter((l) => l.type === 'remediation')).toEqual([
        expect.objectContaining({
          outcome: 'failed',
          control: 's3-default-encryption',
          resourceArn: expect.stringMatching(/^arn:aws:s3:::/),
        }),
      ]);
      expect(result.stderr).toContain('no AWS credentials found');
    });
  });
});
