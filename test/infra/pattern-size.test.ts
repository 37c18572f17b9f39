import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { loadPolicyFile, parsePolicy } from '../../controls/policy';
import { RampartStack } from '../../infra/stack';
import { generatedName, TemplateResolver, type DeployEnv } from './resolve';

const ROOT = join(__dirname, '../..');
/** EventBridge's default limit on an event pattern (Service Quotas: "Event pattern size"). */
const MAX_PATTERN = 2048;

/**
 * The longest names a default deploy can get: a 32-character stack name, the longest partition
 * and region names (taken apart: no real region has both), a 12-digit account.
 */
const LONGEST: DeployEnv = {
  stackName: 'Rampart-Guard-Production-Account',
  account: '123456789012',
  region: 'ap-southeast-7',
  partition: 'aws-us-gov',
  urlSuffix: 'amazonaws.com',
};

/** Every control, every secret, emails and the trail: the most resources the guard makes. */
const LARGEST = parsePolicy({
  notifications: {
    emails: ['secops@example.com', 'oncall@example.com'],
    slack: {
      webhookSecretArn:
        'arn:aws:secretsmanager:ap-southeast-7:123456789012:secret:rampart/production/slack-webhook-for-the-security-operations-channel',
      signingSecretArn:
        'arn:aws:secretsmanager:ap-southeast-7:123456789012:secret:rampart/production/slack-signing-secret-of-the-rampart-app-AbCdEf',
      teamId: 'T012AB3C4',
      appId: 'A0123ABCD',
    },
  },
  approvals: loadPolicyFile(join(ROOT, 'examples/rampart.config.yaml')).approvals,
  controls: loadPolicyFile(join(ROOT, 'examples/rampart.config.yaml')).controls,
});

describe('event pattern sizes, resolved as CloudFormation would name things', () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const template = Template.fromStack(new RampartStack(app, LONGEST.stackName, { policy: LARGEST, createTrail: true })).toJSON() as {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  };
  const resolver = new TemplateResolver(template, LONGEST);
  const rules = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Events::Rule');

  it('makes names as long as CloudFormation does: stack, logical id cut to fit, 13 random characters', () => {
    const name = generatedName(LONGEST, 'GuardWorkflowRequestApprovalFunctionD67D9134', 64);
    expect(name).toHaveLength(64);
    expect(name.startsWith(`${LONGEST.stackName}-GuardWorkflow`)).toBe(true);
    expect(name).toMatch(/-[0-9A-F]{13}$/);
    const fn = Object.keys(template.Resources).find((id) => template.Resources[id]!.Type === 'AWS::Lambda::Function')!;
    expect(resolver.resource(fn).ref).toHaveLength(64);
  });

  it(`keeps every rule's pattern within ${MAX_PATTERN} characters`, () => {
    const sizes = rules.map(([id, r]) => {
      const pattern = resolver.resolve(r.Properties.EventPattern);
      expect(JSON.stringify(pattern)).not.toMatch(/Fn::|"Ref"/);
      return { id, size: JSON.stringify(pattern).length };
    });
    expect(sizes.filter(({ size }) => size > MAX_PATTERN)).toEqual([]);
    expect(rules.length).toBeGreaterThan(10);
    // the split is what keeps them small: the tamper alert of all functions in one rule would not fit
    expect(sizes.filter(({ id }) => id.includes('TamperAlertsFunctions')).length).toBeGreaterThan(1);
  });
});
