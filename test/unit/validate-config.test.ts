import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePolicyText } from '../../controls/policy';
import { PolicyError } from '../../core/errors';
import { RAMPART_GUARD_ACL, runCli } from '../helpers';

/**
 * `validate-config` reads a policy as `cdk synth` does (infra/app.ts: `loadPolicyFile(file,
 * { deploy: true })`), so one verdict holds for both: the tests below check the CLI and that
 * same parse.
 */
const dir = mkdtempSync(join(tmpdir(), 'rampart-validate-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
const deployVerdict = (text: string) => {
  try {
    parsePolicyText(text, 'p', { deploy: true });
    return 'valid';
  } catch (error) {
    return (error as PolicyError).issues.map((i) => `${i.path}: ${i.message}`).join('\n');
  }
};

describe('validate-config agrees with the synth', () => {
  it.each([
    ['an empty file', ''],
    ['controls: {}', 'controls: {}\n'],
  ])('refuses %s (a guard judging nothing), as the synth does', async (_name, text) => {
    const result = await runCli(['validate-config', file('empty.yaml', text)]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('controls: no control is enabled');
    expect(deployVerdict(text)).toContain('controls: no control is enabled');
  });

  it.each(['rate(banana)', 'rate(1 hours)', 'rate(0 minutes)', 'cron(0 * * *)', 'every hour'])(
    'refuses the schedule %s',
    async (schedule) => {
      const text = `sweep: { schedule: "${schedule}" }\ncontrols:\n  s3-default-encryption: { algorithm: AES256 }\n`;
      const result = await runCli(['validate-config', file('schedule.yaml', text)]);

      expect(result.code).toBe(2);
      expect(result.stderr).toContain('sweep.schedule: expected an EventBridge Scheduler expression');
    },
  );

  it.each(['rate(1 hour)', 'rate(15 minutes)', 'rate(2 days)', 'cron(0 * * * ? *)', 'cron(0/15 8-17 ? * MON-FRI *)'])(
    'accepts the schedule %s',
    (schedule) => {
      expect(deployVerdict(`sweep: { schedule: "${schedule}" }\ncontrols:\n  s3-default-encryption: { algorithm: AES256 }\n`)).toBe(
        'valid',
      );
    },
  );

  it('refuses a WAF web ACL in a region the policy does not guard', async () => {
    const text = `regions: [eu-west-1]\ncontrols:\n  apigateway-waf: { defaultWebAclArn: "${RAMPART_GUARD_ACL}" }\n`;
    const result = await runCli(['validate-config', file('waf.yaml', text)]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'controls.apigateway-waf.defaultWebAclArn: is in us-east-1, a region the policy does not guard (regions: eu-west-1)',
    );
    expect(deployVerdict(text)).toContain('is in us-east-1');
    expect(deployVerdict(text.replace('eu-west-1', 'us-east-1'))).toBe('valid');
  });

  it("validates the README's own example policy", async () => {
    const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Policy file'));
    const example = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
    const result = await runCli(['validate-config', file('readme.yaml', example)]);

    expect(result.stderr).not.toContain('invalid policy');
    expect(result.code).toBe(0);
  });

  it('validates the bundled example and the root policy', async () => {
    for (const path of ['examples/rampart.config.yaml', 'rampart.config.yaml']) {
      const result = await runCli(['validate-config', join(__dirname, '../..', path)]);
      expect(result.code).toBe(0);
    }
  });
});
