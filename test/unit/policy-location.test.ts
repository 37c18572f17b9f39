import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolvePolicyLocation } from '../../core/policy-location';
import { BUNDLED_POLICY } from '../../cli/io';
import { FIXTURES, jsonLines, runCli } from '../helpers';

describe('one policy resolution order for every command and the CDK app', () => {
  const local = 'rampart.config.yaml';
  it('takes --config, then RAMPART_CONFIG, then ./rampart.config.yaml, then the bundled example where allowed', () => {
    const all = { local, exists: () => true, bundled: 'bundled.yaml' };
    expect(resolvePolicyLocation({ ...all, flag: 'a.yaml', env: 'b.yaml' })).toEqual({ file: 'a.yaml', source: '--config' });
    expect(resolvePolicyLocation({ ...all, env: 'b.yaml' })).toEqual({ file: 'b.yaml', source: 'RAMPART_CONFIG' });
    expect(resolvePolicyLocation(all)).toEqual({ file: local, source: './rampart.config.yaml' });
    expect(resolvePolicyLocation({ ...all, exists: () => false })).toEqual({ file: 'bundled.yaml', source: 'bundled example' });
    expect(resolvePolicyLocation({ local, exists: () => false })).toBeUndefined();
  });

  describe('in a directory of the user', () => {
    const cwd = process.cwd();
    const previous = process.env.RAMPART_CONFIG;
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'rampart-policy-'));
      delete process.env.RAMPART_CONFIG;
      process.chdir(dir);
    });
    afterEach(() => {
      process.chdir(cwd);
      if (previous === undefined) delete process.env.RAMPART_CONFIG;
      else process.env.RAMPART_CONFIG = previous;
    });
    const event = join(FIXTURES, 's3-PutBucketEncryption.aes256-constructed.json');

    it('judges against ./rampart.config.yaml, not the bundled example, and says so on stderr', async () => {
      // the user's copy turns the S3 control off: the sample would find the bucket
      writeFileSync(join(dir, 'rampart.config.yaml'), 'controls:\n  apigateway-throttling: { rateLimit: 100, burstLimit: 50 }\n');
      const result = await runCli(['replay', '--json', event]);

      expect(result.stderr).toContain('policy: ./rampart.config.yaml');
      expect(jsonLines(result.stdout).filter((l) => l.type === 'finding')).toEqual([]);
      const withSample = await runCli(['replay', '--json', '--config', BUNDLED_POLICY, event]);
      expect(jsonLines(withSample.stdout).filter((l) => l.type === 'finding')).toHaveLength(1);
    });

    it('reads RAMPART_CONFIG before ./rampart.config.yaml, in validate-config as in replay', async () => {
      writeFileSync(join(dir, 'rampart.config.yaml'), 'controls:\n  apigateway-throttling: { rateLimit: 100, burstLimit: 50 }\n');
      writeFileSync(join(dir, 'env.yaml'), 'controls:\n  s3-default-encryption: { algorithm: AES256 }\n');
      process.env.RAMPART_CONFIG = join(dir, 'env.yaml');
      const result = await runCli(['validate-config']);

      expect(result.code).toBe(0);
      expect(result.stderr).toContain(`policy: ${join(dir, 'env.yaml')} (RAMPART_CONFIG)`);
      expect(result.stdout).toContain('controls: s3-default-encryption');
    });

    it("refuses to judge the user's events against the bundled example when there is no policy", async () => {
      for (const args of [['replay', event], ['scan'], ['validate-config'], ['remediate', '--finding', '{}']]) {
        const result = await runCli(args);
        expect(result.code).toBe(2);
        expect(result.stderr).toContain('no policy: pass --config <file>, set RAMPART_CONFIG, or create ./rampart.config.yaml');
      }
    });

    it('replays the bundled incident against the bundled example when there is no policy, and says so', async () => {
      const result = await runCli(['replay', '--json']);

      expect(result.code).toBe(0);
      expect(result.stderr).toContain(`policy: ${BUNDLED_POLICY} (the bundled example`);
      expect(Number(jsonLines(result.stdout).at(-1)!.findings)).toBeGreaterThan(0);
    });
  });
});
