import { join } from 'node:path';
import { build } from 'esbuild';

const ROOT = join(__dirname, '../..');

/** Each Lambda entry bundled as infra/constructs/functions.ts bundles it (minified, Node.js 22, the SDK and the tracer outside). */
async function bundle(entry: string): Promise<{ bytes: number; inputs: string[] }> {
  const result = await build({
    entryPoints: [join(ROOT, entry)],
    bundle: true,
    platform: 'node',
    target: 'node22',
    minify: true,
    write: false,
    metafile: true,
    logLevel: 'silent',
    external: ['@aws-sdk/*', '@aws-lambda-powertools/tracer'],
    outfile: join(ROOT, 'index.js'),
  });
  const output = Object.values(result.metafile.outputs)[0]!;
  return { bytes: output.bytes, inputs: Object.keys(output.inputs) };
}

describe('Lambda bundles', () => {
  const entries = [
    'handlers/detector.ts',
    'handlers/workflow.ts',
    'handlers/sweep.ts',
    'handlers/approval-callback.ts',
    'handlers/channel-notifier.ts',
    'handlers/org-accounts.ts',
  ];

  it.each(entries)('%s stays under 250,000 bytes', async (entry) => {
    expect((await bundle(entry)).bytes).toBeLessThan(250_000);
  });

  it('leaves the function channels (Slack, Security Hub) out of the functions that publish: their own function renders them', async () => {
    for (const entry of ['handlers/detector.ts', 'handlers/workflow.ts']) {
      const { inputs } = await bundle(entry);
      expect(inputs.filter((i) => /core\/channels\/(slack|security-hub)\.ts$/.test(i))).toEqual([]);
    }
  });
});
