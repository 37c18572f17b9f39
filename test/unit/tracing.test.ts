import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { tracingOn } from '../../handlers/telemetry';

const ROOT = join(__dirname, '../..');

/** Loads handlers/telemetry.ts in a fresh process with `env`, traces a client, says whether the X-Ray SDK got loaded. */
function xrayLoaded(env: Record<string, string>): { loaded: boolean; sameClient: boolean } {
  const script = [
    "const { traced } = require('./handlers/telemetry');",
    "const { S3Client } = require('@aws-sdk/client-s3');",
    "const client = new S3Client({ region: 'us-east-1' });",
    'const out = traced(client);',
    "const loaded = Object.keys(require.cache).some((k) => k.includes('aws-xray-sdk-core'));",
    'process.stdout.write(JSON.stringify({ loaded, sameClient: out === client }));',
  ].join('\n');
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !['AWS_EXECUTION_ENV', 'POWERTOOLS_TRACE_ENABLED', 'AWS_SAM_LOCAL'].includes(k)),
  );
  const out = execFileSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
    cwd: ROOT,
    env: { ...clean, ...env },
    encoding: 'utf8',
  });
  return JSON.parse(out) as { loaded: boolean; sameClient: boolean };
}

describe('tracing', () => {
  it('is on in a Lambda execution environment, unless turned off or under SAM local or the Amplify mock', () => {
    expect(tracingOn({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' })).toBe(true);
    expect(tracingOn({})).toBe(false);
    expect(tracingOn({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', POWERTOOLS_TRACE_ENABLED: 'FALSE' })).toBe(false);
    expect(tracingOn({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', AWS_SAM_LOCAL: 'true' })).toBe(false);
    expect(tracingOn({ AWS_EXECUTION_ENV: 'AWS_Lambda_amplify-mock' })).toBe(false);
  });

  it('loads the Tracer and the X-Ray SDK only when tracing is on', () => {
    expect(xrayLoaded({ POWERTOOLS_TRACE_ENABLED: 'false', AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' })).toEqual({
      loaded: false,
      sameClient: true,
    });
    expect(xrayLoaded({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR' })).toEqual({
      loaded: true,
      sameClient: true,
    });
  }, 60_000);
});
