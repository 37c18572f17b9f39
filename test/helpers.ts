import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { parseEvent, type RampartEvent } from '../core/events';
import { parsePolicy, type Policy, type PolicyInput } from '../controls/policy';
import { run } from '../cli/main';

export const FIXTURES = join(__dirname, 'fixtures');

/** A real AWS event sample from test/fixtures, parsed from JSON (not from our code). */
export function fixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as T;
}

export function fixtureEvent(name: string): RampartEvent {
  return parseEvent(fixture(name));
}

export const RAMPART_GUARD_ACL = 'arn:aws:wafv2:us-east-1:111122223333:regional/webacl/rampart-guard/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
export const LEGACY_ACL = 'arn:aws:wafv2:us-east-1:111122223333:regional/webacl/legacy-allow-all/9f8e7d6c-5b4a-4392-8170-6e5d4c3b2a19';
export const ARTIFACTS_KEY = 'arn:aws:kms:us-east-1:111122223333:key/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

/** The bundled example policy (examples/rampart.config.yaml). */
export const EXAMPLE_POLICY_INPUT: PolicyInput = {
  mode: 'enforce',
  controls: {
    's3-default-encryption': { algorithm: 'aws:kms', kmsKeyId: 'alias/rampart', bucketKeyEnabled: true, risk: 'low' },
    'apigateway-waf': { defaultWebAclArn: RAMPART_GUARD_ACL },
    'apigateway-throttling': { rateLimit: 1000, burstLimit: 500, risk: 'high' },
  },
};

export function policy(input: PolicyInput = EXAMPLE_POLICY_INPUT): Policy {
  return parsePolicy(input);
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process, capturing its output. */
export async function runCli(args: string[], stdinText?: string | Buffer): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const stdin = Readable.from(stdinText === undefined ? [] : [Buffer.from(stdinText)]);
  const code = await run(['node', 'rampart', ...args], { stdout, stderr, stdin });
  return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

/** The NDJSON lines of a `--json` run. */
export function jsonLines(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** A channel's AWS clients in a test that must not make any (Slack, email): asking for one fails the test. */
export const noAwsClients = (): never => {
  throw new Error('this channel made an AWS client in a test that expects none');
};
