import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { BUNDLED_POLICY } from '../../cli/io';
import { CONTROL_IDS } from '../../controls';
import { runCli } from '../helpers';

describe('rampart init and rampart schema', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-init-'));

  it('writes a commented starter policy that validates as the synth validates, and never overwrites one', async () => {
    const file = join(dir, 'rampart.config.yaml');
    const first = await runCli(['init', file]);
    const again = await runCli(['init', file]);
    const check = await runCli(['validate-config', file]);

    expect(first.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toMatch(/^# yaml-language-server: \$schema=\.\/rampart\.schema\.json\n/);
    // every control of the registry is in it, read from the registry: all but the one on commented out
    const text = readFileSync(file, 'utf8');
    for (const id of CONTROL_IDS) expect(text).toMatch(new RegExp(`^#?  ${id}: # .+$`, 'm'));
    expect(text.match(/^ {2}[a-z0-9-]+: #/gm)).toEqual(['  s3-default-encryption: #']);
    expect(text).toContain('#    rateLimit: …');
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('exists: not overwritten (--force replaces it)');
    expect(check.code).toBe(0);
    expect(check.stdout).toContain('valid (mode dry-run; controls: s3-default-encryption)');
  });

  it("prints a JSON Schema generated from the policy's zod schema: the example passes, a typo fails", async () => {
    const result = await runCli(['schema']);
    const schema = JSON.parse(result.stdout) as Record<string, unknown>;
    const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
    const example = parse(readFileSync(BUNDLED_POLICY, 'utf8')) as Record<string, unknown>;

    expect(result.code).toBe(0);
    expect(validate(example) ? [] : validate.errors).toEqual([]);
    expect(validate({ ...example, contrls: {} })).toBe(false);
    expect(validate({ controls: { 'apigateway-throttling': { rateLimit: 'fast' } } })).toBe(false);
    expect(Object.keys((schema.properties as { controls: { properties: object } }).controls.properties)).toEqual(
      expect.arrayContaining(['s3-default-encryption', 'apigateway-waf', 'apigateway-throttling', 'cloudtrail-logging']),
    );
  });
});
