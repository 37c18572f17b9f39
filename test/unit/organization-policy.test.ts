import { readFileSync } from 'node:fs';
import { PolicyError } from '../../core/errors';
import { mergeSettings, policyFor } from '../../core/overrides';
import { loadPolicyFile, parsePolicy, parsePolicyText } from '../../controls/policy';
import { policySliceFor } from '../../infra/policy-slices';

function issuesOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof PolicyError) return error.issues;
    throw error;
  }
  throw new Error('expected a PolicyError');
}

const ISSUE_EXAMPLE = `
organization:
  accounts: all                 # or a list of account ids
  organizationalUnits: [ou-ab12-cdef3456]   # optional filter
  excludeAccounts: ["999988887777"]
  regions: [us-east-1, eu-west-1]
  memberRoles: { read: RampartRead, remediate: RampartRemediate }
overrides:                      # per account or OU: any control's settings, merged over the base
  - organizationalUnits: [ou-ab12-sandbox]
    mode: dry-run
controls:
  apigateway-throttling: { rateLimit: 1000, burstLimit: 500, risk: low }
`;

describe('organization and overrides in the policy', () => {
  it("reads the issue's example as written, with the sweep's defaults", () => {
    const policy = parsePolicyText(ISSUE_EXAMPLE, 'org.yaml');

    expect(policy.organization).toEqual({
      accounts: 'all',
      organizationalUnits: ['ou-ab12-cdef3456'],
      excludeAccounts: ['999988887777'],
      regions: ['us-east-1', 'eu-west-1'],
      memberRoles: { read: 'RampartRead', remediate: 'RampartRemediate' },
      orgPaths: [],
      operatorRoleArns: [],
      sweep: { maxConcurrency: 40, toleratedFailurePercentage: 10 },
    });
    expect(policy.overrides).toEqual([{ organizationalUnits: ['ou-ab12-sandbox'], mode: 'dry-run' }]);
  });

  it('leaves a single-account policy without organization and with no overrides', () => {
    const policy = parsePolicy({ controls: {} });

    expect(policy.organization).toBeUndefined();
    expect(policy.overrides).toEqual([]);
  });

  it('names the field of each bad organization key', () => {
    const issues = issuesOf(() =>
      parsePolicy({
        organization: {
          id: 'org-1',
          accounts: ['12345'],
          organizationalUnits: ['r-ab12'],
          memberRoles: { read: 'has space' },
          sweep: { maxConcurrency: 0, toleratedFailurePercentage: 101 },
          unknownKey: true,
        },
      }),
    );

    const paths = issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'organization.id',
        'organization.accounts.0',
        'organization.organizationalUnits.0',
        'organization.memberRoles.read',
        'organization.sweep.maxConcurrency',
        'organization.sweep.toleratedFailurePercentage',
      ]),
    );
    expect(issues.find((i) => i.path === 'organization.accounts.0')?.message).toMatch(/12-digit AWS account id/);
    expect(issues.some((i) => /unknownKey/.test(i.message))).toBe(true);
  });

  it('refuses an override that names no account or OU', () => {
    const issues = issuesOf(() => parsePolicy({ overrides: [{ mode: 'dry-run' }] }));

    expect(issues).toEqual([{ path: 'overrides.0', message: expect.stringMatching(/names the accounts or organizationalUnits/) }]);
  });

  it("checks each override merged over the base against its control's schema, naming the field", () => {
    const text = [
      'controls:',
      '  apigateway-throttling: { rateLimit: 1000, burstLimit: 500, risk: low }',
      'overrides:',
      '  - accounts: ["444455556666"]',
      '    controls:',
      '      apigateway-throttling: { rateLimit: fast }',
      '  - accounts: ["444455556666"]',
      '    controls:',
      '      s3-default-encryption: { algorithm: AES256 }',
    ].join('\n');

    const issues = issuesOf(() => parsePolicyText(text, 'org.yaml'));

    expect(issues.map((i) => i.path)).toEqual([
      'overrides.0.controls.apigateway-throttling.rateLimit',
      'overrides.1.controls.s3-default-encryption',
    ]);
    expect(issues[0]!.message).toMatch(/expected number/);
    expect(issues[0]!.message).toMatch(/line 6/);
    expect(issues[1]!.message).toMatch(/not a control the policy enables.*does not turn one on/);
  });

  it('asks for approvers when an override raises a control to risk high', () => {
    const value = {
      controls: { 'apigateway-throttling': { rateLimit: 10, burstLimit: 5, risk: 'low' } },
      overrides: [{ accounts: ['444455556666'], controls: { 'apigateway-throttling': { risk: 'high' } } }],
    };

    expect(() => parsePolicy(value)).not.toThrow();
    expect(issuesOf(() => parsePolicy(value, 'p', undefined, { deploy: true })).map((i) => i.path)).toEqual(['approvals.approvers']);
  });

  it('reads the example organization policy', () => {
    const policy = loadPolicyFile('examples/organization.config.yaml', { deploy: true });

    expect(policy.organization?.id).toMatch(/^o-/);
    expect(policy.overrides.length).toBeGreaterThan(0);
    expect(readFileSync('README.md', 'utf8')).toContain('examples/organization.config.yaml');
  });
});

describe('the policy of one account', () => {
  const policy = parsePolicy({
    controls: {
      'apigateway-throttling': { rateLimit: 1000, burstLimit: 500, risk: 'low' },
      's3-default-encryption': { algorithm: 'AES256' },
    },
    overrides: [
      { organizationalUnits: ['ou-ab12-sandbox1'], mode: 'dry-run', controls: { 'apigateway-throttling': { rateLimit: 50 } } },
      { accounts: ['444455556666'], controls: { 'apigateway-throttling': { rateLimit: 20, burstLimit: 10 } } },
    ],
  });

  it('is the base when no override matches', () => {
    expect(policyFor(policy, { account: '111122223333', organizationalUnits: ['ou-ab12-prod0001'] })).toBe(policy);
  });

  it('takes an OU override for an account below that OU, merged key by key over the base', () => {
    const mine = policyFor(policy, { account: '777788889999', organizationalUnits: ['ou-ab12-team0001', 'ou-ab12-sandbox1'] });

    expect(mine.mode).toBe('dry-run');
    expect(mine.controls['apigateway-throttling']).toMatchObject({ rateLimit: 50, burstLimit: 500, risk: 'low' });
    expect(mine.controls['s3-default-encryption']).toEqual(policy.controls['s3-default-encryption']);
    // the base is not changed
    expect(policy.controls['apigateway-throttling']?.rateLimit).toBe(1000);
  });

  it('applies overrides in order: a later match wins', () => {
    const mine = policyFor(policy, { account: '444455556666', organizationalUnits: ['ou-ab12-sandbox1'] });

    expect(mine.mode).toBe('dry-run');
    expect(mine.controls['apigateway-throttling']).toMatchObject({ rateLimit: 20, burstLimit: 10, risk: 'low' });
  });

  it('merges objects at any depth and replaces lists whole', () => {
    expect(mergeSettings({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] } })).toEqual({ a: { b: 1, c: [3] }, d: 1 });
  });

  it('gives each function the overrides of its own controls only', () => {
    expect(policySliceFor(policy, { detector: 's3-default-encryption' }).overrides).toEqual([
      { organizationalUnits: ['ou-ab12-sandbox1'], mode: 'dry-run', controls: {} },
    ]);
    expect(policySliceFor(policy, { detector: 'apigateway-throttling' }).overrides).toEqual(policy.overrides);
    expect(policySliceFor(policy, 'notify').overrides).toBeUndefined();
  });
});
