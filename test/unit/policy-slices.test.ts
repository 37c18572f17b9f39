import { brotliCompressSync, gzipSync } from 'node:zlib';
import { depsFromEnv } from '../../handlers/deps';
import { policySliceFor } from '../../infra/policy-slices';
import { EXAMPLE_POLICY_INPUT, policy as parse } from '../helpers';

const POLICY = parse({
  ...EXAMPLE_POLICY_INPUT,
  regions: ['us-east-1', 'eu-west-1'],
  approvals: { timeoutHours: 12, approvers: { emails: ['alice@example.com'], slackUserIds: ['U012ABCDEF'], iamPrincipalArns: [] } },
  exemptions: { tags: { 'rampart:exempt': 'true' }, arns: ['arn:aws:s3:::legacy-*'] },
  notifications: {
    emails: ['secops@example.com'],
    slack: {
      webhookSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:hook-AbCdEf',
      signingSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:sign-AbCdEf',
      teamId: 'T012AB3C4',
      appId: 'A0123ABCD',
    },
  },
});

describe('the part of the policy each function gets', () => {
  it("gives a detector its own control's slice, the mode, regions and exemptions, nothing else", () => {
    expect(policySliceFor(POLICY, { detector: 'apigateway-throttling' })).toEqual({
      mode: 'enforce',
      regions: ['us-east-1', 'eu-west-1'],
      exemptions: POLICY.exemptions,
      controls: { 'apigateway-throttling': POLICY.controls['apigateway-throttling'] },
    });
  });

  it('gives the sweep every control, what it needs to open findings, its own settings and the approval timeout only', () => {
    expect(policySliceFor(POLICY, 'sweep')).toEqual({
      mode: 'enforce',
      regions: POLICY.regions,
      exemptions: POLICY.exemptions,
      sweep: POLICY.sweep,
      approvals: { timeoutHours: 12 },
      controls: POLICY.controls,
    });
  });

  it.each(['plan', 'apply', 'verify'] as const)('gives %s every control, the exemptions and the fix budget, no approvers', (task) => {
    expect(policySliceFor(POLICY, task)).toEqual({
      regions: POLICY.regions,
      exemptions: POLICY.exemptions,
      fixBudget: POLICY.fixBudget,
      controls: POLICY.controls,
    });
  });

  it('gives the approvers to the functions that ask and check them, and the Slack workspace to the callback only', () => {
    expect(policySliceFor(POLICY, 'requestApproval')).toEqual({ approvals: POLICY.approvals, controls: {} });
    expect(policySliceFor(POLICY, 'approvalCallback')).toEqual({
      approvals: POLICY.approvals,
      notifications: { slack: POLICY.notifications.slack },
      controls: {},
    });
    expect(policySliceFor(POLICY, 'notify')).toEqual({ controls: {} });
  });

  it('is read back by the functions as written, plain, Brotli, or gzip as earlier synths wrote it', () => {
    const slice = policySliceFor(POLICY, { detector: 's3-default-encryption' });
    const base = { RAMPART_TABLE: 't', AWS_REGION: 'eu-west-1' };
    expect(depsFromEnv({ ...base, RAMPART_POLICY: JSON.stringify(slice) }).policy).toEqual(slice);
    expect(depsFromEnv({ ...base, RAMPART_POLICY_BROTLI: brotliCompressSync(JSON.stringify(slice)).toString('base64') }).policy).toEqual(
      slice,
    );
    const deps = depsFromEnv({ ...base, RAMPART_POLICY_GZIP: gzipSync(JSON.stringify(slice)).toString('base64') });
    expect(deps.policy).toEqual(slice);
    // the home region comes from the function's environment, handed to the client factory
    expect(deps.clients.region).toBe('eu-west-1');
  });
});
