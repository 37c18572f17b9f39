import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PolicyError } from '../../core/errors';
import { loadPolicyFile, parsePolicy, parsePolicyText } from '../../controls/policy';
import { RAMPART_GUARD_ACL, runCli } from '../helpers';

function issuesOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof PolicyError) return error.issues;
    throw error;
  }
  throw new Error('expected a PolicyError');
}

const FLOW_STYLE_EXAMPLE = `
mode: enforce            # enforce | dry-run (alert only)
notifications: { emails: [secops@example.com], slack: { webhookSecretArn: "arn:aws:secretsmanager:us-east-1:111122223333:secret:rampart/slack-AbCdEf" } }
approvals: { timeoutHours: 24 }
exemptions: { tags: { "rampart:exempt": "true" }, arns: [] }
controls:
  s3-default-encryption: { algorithm: aws:kms, kmsKeyId: alias/rampart, bucketKeyEnabled: true, risk: low }
  apigateway-waf:        { defaultWebAclArn: "${RAMPART_GUARD_ACL}", stages: { "abc123/prod": "${RAMPART_GUARD_ACL}" } }
  apigateway-throttling: { rateLimit: 1000, burstLimit: 500, risk: high }
`;

describe('policy file', () => {
  it('accepts the guard keys and every control in flow-style YAML', () => {
    const policy = parsePolicyText(FLOW_STYLE_EXAMPLE, 'rampart.config.yaml');

    expect(policy.mode).toBe('enforce');
    expect(policy.notifications.emails).toEqual(['secops@example.com']);
    expect(policy.approvals.timeoutHours).toBe(24);
    expect(policy.exemptions.tags).toEqual({ 'rampart:exempt': 'true' });
    expect(policy.controls['s3-default-encryption']).toEqual({
      algorithm: 'aws:kms',
      kmsKeyId: 'alias/rampart',
      bucketKeyEnabled: true,
      risk: 'low',
    });
    expect(policy.controls['apigateway-waf']?.stages).toEqual({ 'abc123/prod': RAMPART_GUARD_ACL });
    expect(policy.controls['apigateway-throttling']).toMatchObject({ rateLimit: 1000, burstLimit: 500, risk: 'high' });
  });

  it('fills defaults: enforce mode, 24 h approvals, no exemptions, throttling fixes need approval', () => {
    const policy = parsePolicy({ controls: { 'apigateway-throttling': { rateLimit: 10, burstLimit: 5 } } });

    expect(policy.mode).toBe('enforce');
    expect(policy.approvals.timeoutHours).toBe(24);
    expect(policy.exemptions).toEqual({ tags: {}, arns: [], requireExpiry: false, expiryTagKey: 'rampart:exempt-until' });
    expect(policy.controls['apigateway-throttling']?.risk).toBe('high');
    expect(policy.controls['s3-default-encryption']).toBeUndefined();
  });

  it('reads JSON as well as YAML', () => {
    const policy = parsePolicyText(JSON.stringify({ controls: { 's3-default-encryption': { algorithm: 'AES256' } } }), 'p.json');

    expect(policy.controls['s3-default-encryption']).toEqual({ algorithm: 'AES256', risk: 'low' });
  });

  it('names the path, the expectation and the line of a field of the wrong type', () => {
    const text = 'controls:\n  apigateway-throttling:\n    rateLimit: "fast"\n    burstLimit: 10\n';

    const issues = issuesOf(() => parsePolicyText(text, 'bad.yaml'));

    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe('controls.apigateway-throttling.rateLimit');
    expect(issues[0]!.message).toMatch(/expected number/);
    expect(issues[0]!.message).toMatch(/line 3/);
  });

  it('lists every bad field at once, not only the first', () => {
    const issues = issuesOf(() =>
      parsePolicy({
        mode: 'sometimes',
        controls: { 's3-default-encryption': { algorithm: 'rot13' }, 'apigateway-waf': { defaultWebAclArn: 'acl-1' } },
      }),
    );

    expect(issues.map((i) => i.path).sort()).toEqual([
      'controls.apigateway-waf.defaultWebAclArn',
      'controls.s3-default-encryption.algorithm',
      'mode',
    ]);
  });

  it('rejects an unknown key, so a typo cannot switch a control off silently', () => {
    const issues = issuesOf(() => parsePolicy({ controls: { 's3-default-encryptoin': { algorithm: 'AES256' } } }));

    expect(issues[0]!.path).toBe('controls');
    expect(issues[0]!.message).toMatch(/s3-default-encryptoin/);
  });

  it('refuses a KMS key or bucket key with SSE-S3, where they mean nothing', () => {
    const issues = issuesOf(() =>
      parsePolicy({ controls: { 's3-default-encryption': { algorithm: 'AES256', kmsKeyId: 'alias/x', bucketKeyEnabled: true } } }),
    );

    expect(issues.map((i) => i.path).sort()).toEqual([
      'controls.s3-default-encryption.bucketKeyEnabled',
      'controls.s3-default-encryption.kmsKeyId',
    ]);
  });

  it('checks stage mapping keys and web ACL ARNs', () => {
    const issues = issuesOf(() =>
      parsePolicy({
        controls: {
          'apigateway-waf': {
            stages: { 'abc/prod/extra': RAMPART_GUARD_ACL, abc: 'arn:aws:wafv2:us-east-1:111122223333:global/webacl/x/y' },
          },
        },
      }),
    );

    expect(issues.map((i) => i.path).sort()).toEqual([
      'controls.apigateway-waf.stages.abc',
      'controls.apigateway-waf.stages.abc/prod/extra',
    ]);
  });

  it('takes a schedule of its own per enabled control in sweep.schedules, and refuses one for a control that is off', () => {
    expect(
      parsePolicy({
        sweep: { schedules: { 'apigateway-throttling': 'rate(5 minutes)' } },
        controls: { 'apigateway-throttling': { rateLimit: 1, burstLimit: 1 } },
      }).sweep,
    ).toEqual({
      schedule: 'rate(1 hour)',
      schedules: { 'apigateway-throttling': 'rate(5 minutes)' },
      concurrency: 32,
    });
    expect(() => parsePolicyText('sweep:\n  schedules:\n    apigateway-waf: rate(5 minutes)\n')).toThrow(
      /sweep\.schedules\.apigateway-waf: apigateway-waf is not a control the policy enables \(line 3\)/,
    );
    expect(() =>
      parsePolicy({
        sweep: { schedules: { 'apigateway-throttling': 'every 5 minutes' } },
        controls: { 'apigateway-throttling': { rateLimit: 1, burstLimit: 1 } },
      }),
    ).toThrow(/expected an EventBridge Scheduler expression/);
  });

  it('reports a YAML syntax error with its line and column', () => {
    const issues = issuesOf(() => parsePolicyText('controls:\n  s3-default-encryption: { algorithm: AES256\n', 'broken.yaml'));

    expect(issues[0]!.message).toMatch(/syntax error at line \d+, column \d+/);
  });

  it('says a missing file is missing', () => {
    const error = (() => {
      try {
        loadPolicyFile('/nonexistent/rampart.config.yaml');
      } catch (e) {
        return e as PolicyError;
      }
      throw new Error('expected failure');
    })();

    expect(error).toBeInstanceOf(PolicyError);
    expect(error.message).toBe('invalid policy /nonexistent/rampart.config.yaml:\n  - (top level): file not found');
  });

  it('loads a file from disk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rampart-policy-'));
    const file = join(dir, 'rampart.config.yaml');
    writeFileSync(file, FLOW_STYLE_EXAMPLE);

    expect(loadPolicyFile(file).controls['apigateway-throttling']?.burstLimit).toBe(500);
  });
});

describe('approvals in the policy', () => {
  const APPROVERS_YAML = `
approvals:
  timeoutHours: 24
  approvers:                       # at least one list is required when any control has risk high
    slackUserIds: [U012ABCDEF]     # Slack users who may click Approve/Reject
    emails: [alice@example.com]    # each gets a personal signed link, recorded as that address
    iamPrincipalArns: [arn:aws:iam::111122223333:role/SecOps]   # who may decide with \`rampart approvals\`
  allowSelfApproval: false         # default false: the actor whose change caused the finding may not approve its fix
controls:
  apigateway-throttling: { rateLimit: 1000, burstLimit: 500 }
`;

  it('accepts the approvers keys as the issue writes them', () => {
    const policy = parsePolicyText(APPROVERS_YAML, 'rampart.config.yaml', { deploy: true });

    expect(policy.approvals).toEqual({
      timeoutHours: 24,
      approvers: {
        slackUserIds: ['U012ABCDEF'],
        emails: ['alice@example.com'],
        iamPrincipalArns: ['arn:aws:iam::111122223333:role/SecOps'],
      },
      allowSelfApproval: false,
    });
  });

  it('defaults to no approvers and no self-approval', () => {
    expect(parsePolicy({}).approvals).toEqual({
      timeoutHours: 24,
      approvers: { slackUserIds: [], emails: [], iamPrincipalArns: [] },
      allowSelfApproval: false,
    });
  });

  it('refuses, for the deployed guard, a control whose risk resolves to high with nobody to approve, naming the field', () => {
    // apigateway-throttling is high risk by default
    const issues = issuesOf(() =>
      parsePolicyText('approvals: { timeoutHours: 4 }\ncontrols:\n  apigateway-throttling: { rateLimit: 10, burstLimit: 5 }\n', 'p.yaml', {
        deploy: true,
      }),
    );

    expect(issues).toEqual([
      {
        path: 'approvals.approvers',
        message: expect.stringMatching(
          /^apigateway-throttling has risk high: list who may approve in approvals\.approvers \(slackUserIds, emails or iamPrincipalArns\) \(line 1\)$/,
        ),
      },
    ]);
  });

  it('lets offline tools (replay, scan) read such a policy: they approve nothing', () => {
    expect(
      parsePolicy({ controls: { 'apigateway-throttling': { rateLimit: 10, burstLimit: 5 } } }).controls['apigateway-throttling']?.risk,
    ).toBe('high');
  });

  it('needs no approvers when every control is low risk', () => {
    expect(() =>
      parsePolicy({ controls: { 'apigateway-throttling': { rateLimit: 10, burstLimit: 5, risk: 'low' } } }, 'p', undefined, {
        deploy: true,
      }),
    ).not.toThrow();
  });

  it('checks approver ids, addresses and ARNs', () => {
    const issues = issuesOf(() =>
      parsePolicy({
        approvals: {
          approvers: {
            slackUserIds: ['alice'],
            emails: ['not-an-email'],
            iamPrincipalArns: ['arn:aws:sts::111122223333:assumed-role/SecOps/alice'],
          },
        },
      }),
    );

    expect(issues.map((i) => i.path).sort()).toEqual([
      'approvals.approvers.emails.0',
      'approvals.approvers.iamPrincipalArns.0',
      'approvals.approvers.slackUserIds.0',
    ]);
  });

  it('requires the Slack team and app ids with a signing secret (the buttons)', () => {
    const issues = issuesOf(() =>
      parsePolicy({
        notifications: {
          slack: {
            webhookSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:w',
            signingSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:s',
          },
        },
      }),
    );

    expect(issues.map((i) => i.path).sort()).toEqual(['notifications.slack.appId', 'notifications.slack.teamId']);
  });
});

describe('rampart validate-config', () => {
  it('refuses a high-risk control with no approver list, naming the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rampart-policy-'));
    const file = join(dir, 'rampart.config.yaml');
    writeFileSync(file, 'controls:\n  apigateway-throttling: { rateLimit: 1000, burstLimit: 500 }\n');

    const result = await runCli(['validate-config', file]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('approvals.approvers: apigateway-throttling has risk high');
  });

  it('and so does cdk synth, before building anything', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rampart-synth-'));
    const file = join(dir, 'rampart.config.yaml');
    writeFileSync(file, 'controls:\n  apigateway-throttling: { rateLimit: 1000, burstLimit: 500 }\n');

    const result = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, '../../infra/app.ts')], {
      cwd: join(__dirname, '../..'),
      encoding: 'utf8',
      env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify({ config: file }), CDK_OUTDIR: join(dir, 'out') },
      timeout: 60_000,
    });

    expect(result.status).toBe(1);
    expect(result.stderr).toContain('approvals.approvers: apigateway-throttling has risk high');
  });
});
