/**
 * Each Lambda bundle as `cdk synth` builds it: minified size, and cold init time (requiring the
 * bundle in a fresh Node process, the AWS SDK resolved from node_modules as the Lambda runtime
 * provides it). Targets: ≤ 250 KB per bundle, init ≤ 150 ms.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');

interface BundleFigure {
  function: string;
  sizeKb: number;
  initMs: number;
}

function initMs(bundle: string): number {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(bundle)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const runs = Array.from({ length: 5 }, () =>
    Number(
      execFileSync(process.execPath, ['-e', script], { env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') }, encoding: 'utf8' }),
    ),
  );
  return runs.sort((a, b) => a - b)[2]!;
}

export function bundleFigures(): BundleFigure[] {
  const out = mkdtempSync(join(tmpdir(), 'rampart-synth-'));
  try {
    execFileSync('npx', ['cdk', 'synth', '--quiet', '--no-notices', '-o', out], {
      cwd: ROOT,
      stdio: 'ignore',
      env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
    });
    const template = JSON.parse(readFileSync(join(out, 'Rampart.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Metadata?: Record<string, string>; Properties: { Handler?: string } }>;
    };
    const figures: BundleFigure[] = [];
    for (const [id, resource] of Object.entries(template.Resources)) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      const asset = resource.Metadata?.['aws:asset:path'];
      if (!asset) continue;
      const bundle = join(out, asset, 'index.js');
      figures.push({
        function: `${id.replace(/[0-9A-F]{8}$/, '')} (${resource.Properties.Handler})`,
        sizeKb: statSync(bundle).size / 1024,
        initMs: initMs(bundle),
      });
    }
    return figures;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

if (require.main === module) {
  for (const f of bundleFigures()) console.log(`${f.function}: ${f.sizeKb.toFixed(0)} KB, init ${f.initMs.toFixed(1)} ms`);
}
