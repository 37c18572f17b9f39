import { execFileSync, execSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tracerBundleCommand } from '../../infra/constructs/functions';
import { gte } from '../../infra/constructs/tracer-semver';

const TRACER = join('node_modules', '@aws-lambda-powertools', 'tracer', 'index.js');

describe('the tracer module beside each bundle (loaded only when tracing is on)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rampart-tracer-'));
    // the command the stack runs after bundling each function
    execSync(tracerBundleCommand(dir), { stdio: 'pipe' });
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('leaves semver out: the X-Ray SDK uses it only to check an AWS SDK v2 version, which Rampart never captures', () => {
    const source = readFileSync(join(dir, TRACER), 'utf8');
    expect(source).not.toContain('SEMVER_SPEC_VERSION');
    expect(source).toContain('captureAWSv3Client');
  });

  it('still loads, builds the Powertools Tracer and captures an SDK v3 client', () => {
    const script = `
      const { Tracer } = require(${JSON.stringify(join(dir, TRACER))});
      const { STSClient } = require('@aws-sdk/client-sts');
      const tracer = new Tracer({ serviceName: 'rampart' });
      const client = tracer.captureAWSv3Client(new STSClient({ region: 'us-east-1' }));
      process.stdout.write(String(client.middlewareStack.identify().some((m) => /xray|XRay/i.test(m))));`;
    const out = execFileSync(process.execPath, ['-e', script], {
      env: {
        PATH: process.env.PATH ?? '',
        NODE_PATH: join(__dirname, '../../node_modules'),
        AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
        AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      encoding: 'utf8',
    });
    expect(out).toBe('true');
  });
});

describe('the semver stand-in of the tracer module', () => {
  it.each([
    ['2.7.15', '2.7.15', true],
    ['2.1692.0', '2.7.15', true],
    ['2.7.16', '2.7.15', true],
    ['3.0.0', '2.7.15', true],
    ['2.7.14', '2.7.15', false],
    ['2.6.99', '2.7.15', false],
    ['1.99.99', '2.7.15', false],
  ])('gte(%s, %s) is %s', (version, min, expected) => {
    expect(gte(version, min)).toBe(expected);
  });

  it('refuses what is not a plain x.y.z version rather than guessing', () => {
    expect(() => gte('2.x', '2.7.15')).toThrow(/not a version/);
    expect(() => gte(undefined as unknown as string, '2.7.15')).toThrow(/not a version/);
  });
});
