import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');
const POLICY = join(ROOT, 'examples/rampart.config.yaml');

/**
 * A new user's machine: no AWS credentials, no region, no profile (HOME is an empty directory),
 * Node.js 20. Every command that calls AWS says so in one sentence and exits 2.
 */
function rampart(args: string[]) {
  const home = mkdtempSync(join(tmpdir(), 'rampart-home-'));
  return spawnSync(process.execPath, [join(ROOT, 'bin/rampart.js'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    // instance metadata off: the chain must not wait on the network
    env: { PATH: process.env.PATH, HOME: home, AWS_EC2_METADATA_DISABLED: 'true' },
  });
}

describe('rampart without AWS credentials or region', () => {
  const finding = JSON.stringify({ type: 'finding', control: 's3-default-encryption', resourceArn: 'arn:aws:s3:::logs' });
  it.each([
    [['findings', 'list', '--table', 't']],
    [['findings', 'show', 'abc', '--table', 't']],
    [['approvals', 'list', '--table', 't']],
    [['approvals', 'approve', 'abc', '--table', 't']],
    [['findings', 'list']],
    [['remediate', '--config', POLICY, '--finding', finding]],
    [['scan', '--config', POLICY]],
    [['replay', '--apply', '--config', POLICY, join(ROOT, 'test/fixtures/s3-PutBucketEncryption.aes256-constructed.json')]],
  ])('%j: one sentence naming the region, exit 2, no SDK notice', (args) => {
    const result = rampart(args);

    expect(result.stderr).toContain('no AWS region: pass --region, set AWS_REGION, or set a region in the AWS profile');
    expect(result.status).toBe(2);
    expect(result.stderr).not.toMatch(/Region is missing|NodeVersionSupportWarning|\n\s+at /);
  });

  it.each([
    [['findings', 'list', '--table', 't', '--region', 'eu-west-1']],
    [['remediate', '--config', POLICY, '--finding', finding, '--region', 'eu-west-1']],
    [['scan', '--config', POLICY, '--region', 'eu-west-1']],
  ])('%j with a region: one sentence naming the credentials, exit 2', (args) => {
    const result = rampart(args);

    expect(result.stderr).toContain('no AWS credentials found');
    expect(result.status).toBe(2);
    expect(result.stderr).not.toMatch(/Could not load credentials|NodeVersionSupportWarning|\n\s+at /);
  });

  it('prints a usage error in one line and a pointer, not the whole help', () => {
    const result = rampart(['replay', '--frobnicate']);

    expect(result.status).toBe(2);
    expect(result.stderr).toContain("unknown option '--frobnicate'");
    expect(result.stderr).toContain('(add --help for usage)');
    expect(result.stderr).not.toContain('Options:');
  });
});
