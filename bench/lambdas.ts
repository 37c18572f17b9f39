/**
 * The Lambda functions as `cdk synth` builds them: each bundle's size (and the lazily loaded
 * tracer module beside it), and the S3 detector's cold start as Lambda does it: a fresh process
 * with the deployed environment (the template's variables, Lambda's own, the SDK pointed at a
 * local fake endpoint on 127.0.0.1), `require` of the bundle + the first invocation on a real
 * event, then warm invocations (p50/p99). Floor, measured alternately in the same run: a
 * process that loads the SDK packages of the same services and sends the same calls.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startFakeAwsEndpoint } from './fake-aws-endpoint';
import { median, paired, type Paired } from './paired';

const ROOT = join(__dirname, '..');
const TRACER_BESIDE = join('node_modules', '@aws-lambda-powertools', 'tracer', 'index.js');
const run = promisify(execFile);

interface LambdaFunction {
  id: string;
  handler: string;
  bundle: string;
  environment: Record<string, string>;
}

export interface BundleSize {
  function: string;
  kb: number;
  /** The tracer module beside the bundle, loaded only when tracing is on. */
  tracerKb: number;
}

export interface ColdStart {
  tracing: 'on' | 'off';
  /** require + first invocation, ms. */
  cold: Paired;
  warmP50: Paired;
  warmP99: Paired;
  calls: string[];
}

/** A deploy-time value (Ref, GetAtt, Join) as a plausible literal. */
function literal(name: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (name.endsWith('_ARN')) return `arn:aws:states:us-east-1:111122223333:stateMachine:${name.toLowerCase()}`;
  if (name === 'RAMPART_ACCOUNT') return '111122223333';
  if (name.endsWith('_URL')) return 'https://example.execute-api.us-east-1.amazonaws.com/prod/';
  return `rampart-${name.toLowerCase()}`;
}

function synthesize(out: string): LambdaFunction[] {
  execFileSync('npx', ['cdk', 'synth', '--quiet', '--no-notices', '-o', out], {
    cwd: ROOT,
    stdio: 'ignore',
    env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
  });
  return readTemplate(out);
}

export function bundleSizes(functions: readonly LambdaFunction[]): BundleSize[] {
  return functions.map((f) => {
    const tracer = join(f.bundle, '..', TRACER_BESIDE);
    return {
      function: `${f.id} (${f.handler})`,
      kb: statSync(f.bundle).size / 1024,
      tracerKb: existsSync(tracer) ? statSync(tracer).size / 1024 : 0,
    };
  });
}

interface Invocation {
  requireMs: number;
  firstMs: number;
  warmMs: number[];
}

async function invoke(args: string[], env: Record<string, string>): Promise<Invocation> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', join(__dirname, 'lambda-invoke.ts'), ...args], {
    env,
    encoding: 'utf8',
  });
  const line = stdout.split('\n').find((l) => l.startsWith('BENCH '));
  if (!line) throw new Error(`the invocation printed no figures: ${stdout.slice(-2000)}`);
  return JSON.parse(line.slice('BENCH '.length)) as Invocation;
}

const quantile = (values: readonly number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};

/** The S3 detector's cold start and warm latency, tracing on (as deployed) and off, each beside its floor. */
export async function detectorColdStarts(
  functions: readonly LambdaFunction[],
  rounds = Number(process.env.BENCH_ROUNDS ?? 7),
  warmRuns = 200,
): Promise<ColdStart[]> {
  const detector = functions.find((f) => f.environment.RAMPART_CONTROL === 's3-default-encryption');
  if (!detector) throw new Error('no s3-default-encryption detector in the template');
  const event = readFileSync(join(ROOT, 'test/fixtures/s3-DeleteBucketEncryption-constructed.json'), 'utf8');
  const endpoint = await startFakeAwsEndpoint();
  const figures: ColdStart[] = [];
  try {
    for (const tracing of ['on', 'off'] as const) {
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? '',
        // the runtime's SDK: this project's node_modules stands in for it
        NODE_PATH: join(ROOT, 'node_modules'),
        ...detector.environment,
        AWS_REGION: 'us-east-1',
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
        AWS_LAMBDA_FUNCTION_NAME: 'rampart-bench-detector',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
        AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        AWS_SESSION_TOKEN: 'bench',
        AWS_ENDPOINT_URL: endpoint.url,
        // outside Lambda there is no facade segment: X-Ray would otherwise throw
        AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...(tracing === 'off' ? { POWERTOOLS_TRACE_ENABLED: 'false' } : {}),
      };
      endpoint.calls.length = 0;
      await invoke(['subject', detector.bundle, detector.handler.replace(/^index\./, ''), event, '0'], env);
      const calls = [...endpoint.calls];
      const subjects: Invocation[] = [];
      const floors: Invocation[] = [];
      const cold = await paired(
        rounds,
        async () => {
          const r = await invoke(['subject', detector.bundle, detector.handler.replace(/^index\./, ''), event, String(warmRuns)], env);
          subjects.push(r);
          return r.requireMs + r.firstMs;
        },
        async () => {
          const r = await invoke(['floor', JSON.stringify(calls), '', event, String(warmRuns)], env);
          floors.push(r);
          return r.requireMs + r.firstMs;
        },
      );
      const pairedQuantile = (q: number): Paired => {
        const s = subjects.map((r) => quantile(r.warmMs, q));
        const f = floors.map((r) => quantile(r.warmMs, q));
        return { subject: median(s), floor: median(f), ratio: median(s.map((x, i) => x / f[i]!)) };
      };
      figures.push({ tracing, cold, warmP50: pairedQuantile(0.5), warmP99: pairedQuantile(0.99), calls });
    }
  } finally {
    await endpoint.close();
  }
  return figures;
}

export async function lambdaFigures(): Promise<{ sizes: BundleSize[]; coldStarts: ColdStart[] }> {
  const out = mkdtempSync(join(tmpdir(), 'rampart-synth-'));
  try {
    const functions = synthesize(out);
    return { sizes: bundleSizes(functions), coldStarts: await detectorColdStarts(functions) };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** For a synth already on disk: `tsx bench/lambdas.ts <cdk.out>` (no new synth). */
export async function lambdaFiguresOf(out: string): Promise<{ sizes: BundleSize[]; coldStarts: ColdStart[] }> {
  const template = join(out, 'Rampart.template.json');
  if (!existsSync(template)) throw new Error(`no template in ${out}`);
  const functions = readTemplate(out);
  return { sizes: bundleSizes(functions), coldStarts: await detectorColdStarts(functions) };
}

function readTemplate(out: string): LambdaFunction[] {
  const template = JSON.parse(readFileSync(join(out, 'Rampart.template.json'), 'utf8')) as {
    Resources: Record<
      string,
      {
        Type: string;
        Metadata?: Record<string, string>;
        Properties: { Handler?: string; Environment?: { Variables?: Record<string, unknown> } };
      }
    >;
  };
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.['aws:asset:path'])
    .map(([id, r]) => ({
      id: id.replace(/[0-9A-F]{8}$/, ''),
      handler: r.Properties.Handler ?? 'index.handler',
      bundle: join(out, r.Metadata!['aws:asset:path']!, 'index.js'),
      environment: Object.fromEntries(Object.entries(r.Properties.Environment?.Variables ?? {}).map(([k, v]) => [k, literal(k, v)])),
    }));
}

if (require.main === module) {
  const out = process.argv[2];
  void (out ? lambdaFiguresOf(out) : lambdaFigures()).then((f) => console.log(JSON.stringify(f, null, 1)));
}
