/**
 * The Lambda functions as `cdk synth` builds them: each bundle's size (and the lazily loaded
 * tracer module beside it), and the S3 detector's cold start as Lambda does it: a fresh process
 * (plain `node`, no loader hooks) with the deployed environment (the template's variables,
 * Lambda's own, the SDK pointed at a local fake endpoint on 127.0.0.1), `require` of the bundle
 * + the first invocation on a real event, then warm invocations (p50/p99). The cold start is
 * counted two ways: in the process (require + first invocation, what the issue's figures count)
 * and from the process's start (Node.js's own start-up included, closer to Lambda's init +
 * first duration). Floors, measured in turn in the same rounds: a process that loads the SDK
 * packages of the same services from `node_modules` (the runtime's copy) and sends the same
 * calls; and the same calls with the SDK bundled and tree-shaken into one file (what a function
 * carrying its own SDK could reach).
 */
import { execFile, execFileSync } from 'node:child_process';
import { build } from 'esbuild';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startFakeAwsEndpoint } from './fake-aws-endpoint';
import { bundledFloorSource } from './lambda-floor-calls';
import { median, pairedOf, quantile, withFloor, type Paired } from './paired';

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
  /** require + first invocation, ms, beside the bare process on the runtime's SDK packages. */
  cold: Paired;
  /** From the process's start to the end of the first invocation (Node.js's start-up included), beside the same floor. */
  coldFromStart: Paired;
  /** The same two figures beside the floor with the SDK bundled and tree-shaken into one file. */
  coldBesideBundledSdk: Paired;
  coldFromStartBesideBundledSdk: Paired;
  /** Node.js's own start-up in the floor's process (from its start to the first line of the script). */
  nodeStartMs: number;
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
  /** The end of the first invocation from the process's start (Node.js's start-up included). */
  sinceStartMs: number;
  warmMs: number[];
}

/** The child compiled to plain JavaScript (its one import bundled, the SDK left to `require`): no loader hooks in the measured process. */
async function buildInvoker(dir: string): Promise<string> {
  const outfile = join(dir, 'lambda-invoke.js');
  await build({
    entryPoints: [join(__dirname, 'lambda-invoke.ts')],
    bundle: true,
    packages: 'external',
    platform: 'node',
    target: 'node20',
    outfile,
    logLevel: 'warning',
  });
  return outfile;
}

/**
 * The floor with the SDK in the bundle: the same calls, the clients and commands they use
 * bundled and tree-shaken into one minified file (ES module builds first), as a function
 * carrying its own SDK would be. What the runtime's SDK costs beside it is the gap between the
 * two floors.
 */
async function buildBundledFloor(dir: string, calls: readonly string[]): Promise<{ file: string; kb: number }> {
  const file = join(dir, 'bundled-floor.js');
  await build({
    stdin: { contents: bundledFloorSource(calls), resolveDir: ROOT, loader: 'js', sourcefile: 'bundled-floor.js' },
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    minify: true,
    mainFields: ['module', 'main'],
    outfile: file,
    logLevel: 'warning',
  });
  return { file, kb: statSync(file).size / 1024 };
}

async function invoke(invoker: string, args: string[], env: Record<string, string>): Promise<Invocation> {
  const { stdout } = await run(process.execPath, [invoker, ...args], { env, encoding: 'utf8' });
  const line = stdout.split('\n').find((l) => l.startsWith('BENCH '));
  if (!line) throw new Error(`the invocation printed no figures: ${stdout.slice(-2000)}`);
  return JSON.parse(line.slice('BENCH '.length)) as Invocation;
}

const inProcess = (r: Invocation) => r.requireMs + r.firstMs;
const fromStart = (r: Invocation) => r.sinceStartMs;

/** The S3 detector's cold start and warm latency, tracing on (as deployed) and off, each beside its floors. */
export async function detectorColdStarts(
  functions: readonly LambdaFunction[],
  dir: string,
  rounds = Number(process.env.BENCH_ROUNDS ?? 7),
  warmRuns = 200,
): Promise<{ coldStarts: ColdStart[]; bundledFloorKb: number }> {
  const detector = functions.find((f) => f.environment.RAMPART_CONTROL === 's3-default-encryption');
  if (!detector) throw new Error('no s3-default-encryption detector in the template');
  const event = readFileSync(join(ROOT, 'test/fixtures/s3-DeleteBucketEncryption-constructed.json'), 'utf8');
  const invoker = await buildInvoker(dir);
  const handlerName = detector.handler.replace(/^index\./, '');
  const endpoint = await startFakeAwsEndpoint();
  const figures: ColdStart[] = [];
  let bundledFloorKb = 0;
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
      await invoke(invoker, ['subject', detector.bundle, handlerName, event, '0'], env);
      const calls = [...endpoint.calls];
      const bundled = await buildBundledFloor(dir, calls);
      bundledFloorKb = bundled.kb;
      const sides = {
        subject: () => invoke(invoker, ['subject', detector.bundle, handlerName, event, String(warmRuns)], env),
        floor: () => invoke(invoker, ['floor', JSON.stringify(calls), '', event, String(warmRuns)], env),
        bundled: () => invoke(invoker, ['subject', bundled.file, 'handler', event, '0'], env),
      };
      const runs: Record<keyof typeof sides, Invocation[]> = { subject: [], floor: [], bundled: [] };
      const order = Object.keys(sides) as (keyof typeof sides)[];
      for (let r = 0; r < rounds; r++) {
        // each side goes first in turn: a warming or cooling machine favours none
        for (let i = 0; i < order.length; i++) {
          const side = order[(r + i) % order.length]!;
          runs[side].push(await sides[side]());
        }
      }
      const warm = (q: number) =>
        pairedOf(
          runs.subject.map((x) => quantile(x.warmMs, q)),
          runs.floor.map((x) => quantile(x.warmMs, q)),
        );
      figures.push({
        tracing,
        cold: pairedOf(runs.subject.map(inProcess), runs.floor.map(inProcess)),
        coldFromStart: pairedOf(runs.subject.map(fromStart), runs.floor.map(fromStart)),
        coldBesideBundledSdk: pairedOf(runs.subject.map(inProcess), runs.bundled.map(inProcess)),
        coldFromStartBesideBundledSdk: pairedOf(runs.subject.map(fromStart), runs.bundled.map(fromStart)),
        nodeStartMs: median(runs.floor.map((x) => fromStart(x) - inProcess(x))),
        warmP50: warm(0.5),
        warmP99: warm(0.99),
        calls,
      });
    }
  } finally {
    await endpoint.close();
  }
  return { coldStarts: figures, bundledFloorKb };
}

export interface LambdaFigures {
  sizes: BundleSize[];
  coldStarts: ColdStart[];
  /** The size of the floor with the SDK bundled in. */
  bundledFloorKb: number;
}

export async function lambdaFigures(): Promise<LambdaFigures> {
  const out = mkdtempSync(join(tmpdir(), 'rampart-synth-'));
  try {
    const functions = synthesize(out);
    return { sizes: bundleSizes(functions), ...(await detectorColdStarts(functions, out)) };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** For a synth already on disk: `tsx bench/lambdas.ts <cdk.out>` (no new synth). */
export async function lambdaFiguresOf(out: string): Promise<LambdaFigures> {
  const template = join(out, 'Rampart.template.json');
  if (!existsSync(template)) throw new Error(`no template in ${out}`);
  const functions = readTemplate(out);
  const dir = mkdtempSync(join(tmpdir(), 'rampart-bench-'));
  try {
    return { sizes: bundleSizes(functions), ...(await detectorColdStarts(functions, dir)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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

const ms = (p: Paired, digits = 0) => withFloor(p, 'ms', digits);

/** The figures as `npm run bench` prints them. */
export function describeLambdaFigures(f: LambdaFigures): string[] {
  return [
    ...f.sizes.map(
      (s) =>
        `bundle ${s.function}: ${s.kb.toFixed(0)} KB (target ≤ 250 KB)${s.tracerKb > 0 ? `; tracer module beside it, loaded only when tracing is on: ${s.tracerKb.toFixed(0)} KB` : ''}`,
    ),
    ...f.coldStarts.map(
      (c) =>
        `S3 detector, tracing ${c.tracing} (${c.calls.length} calls to a local endpoint): cold start in the process (require + first invocation) ${ms(c.cold)} (target ≤ 120 ms); ` +
        `from the process's start ${ms(c.coldFromStart)} (Node.js's own start ${c.nodeStartMs.toFixed(0)} ms); ` +
        `beside the floor with the SDK bundled in (${f.bundledFloorKb.toFixed(0)} KB): ${ms(c.coldBesideBundledSdk)}, from the start ${ms(c.coldFromStartBesideBundledSdk)}; ` +
        `warm p50 ${ms(c.warmP50, 2)}, p99 ${ms(c.warmP99, 2)}; floor: the same calls from a bare process loading the same SDK packages`,
    ),
  ];
}

if (require.main === module) {
  const out = process.argv[2];
  void (out ? lambdaFiguresOf(out) : lambdaFigures()).then((f) => {
    for (const line of describeLambdaFigures(f)) console.log(line);
    if (process.env.BENCH_JSON) console.log(JSON.stringify(f, null, 1));
  });
}
