import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { parsePolicy } from '../../controls/policy';
import { RampartStack } from '../../infra/stack';

type Statement = {
  Effect: string;
  Principal?: { Service?: string | string[] };
  Action: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
};
type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const template = Template.fromStack(
  new RampartStack(app, 'Rampart', {
    policy: parsePolicy({
      notifications: { emails: ['secops@example.com'] },
      controls: { 's3-default-encryption': { algorithm: 'AES256' } },
    }),
    createTrail: true,
  }),
);
const resources = template.toJSON().Resources as Resources;
const keyPolicy = (Object.values(resources).find((r) => r.Type === 'AWS::KMS::Key')!.Properties.KeyPolicy as { Statement: Statement[] })
  .Statement;
const services = (s: Statement) => ([] as string[]).concat(s.Principal?.Service ?? []);
const conditionKeys = (s: Statement) => Object.values(s.Condition ?? {}).flatMap((c) => Object.keys(c));
const account = { Ref: 'AWS::AccountId' };

describe("the key policy's service principals", () => {
  const byService = keyPolicy.filter((s) => services(s).length > 0);

  it('name one service each and bind it to this account', () => {
    expect(byService.map(services).flat().sort()).toEqual([
      'cloudtrail.amazonaws.com',
      'cloudtrail.amazonaws.com',
      'cloudwatch.amazonaws.com',
      'events.amazonaws.com',
      'logs.amazonaws.com',
      'sns.amazonaws.com',
    ]);
    for (const s of byService) {
      expect(services(s)).toHaveLength(1);
      if (services(s)[0] === 'logs.amazonaws.com') {
        // CloudWatch Logs' documented condition: the log group in the encryption context, in this account
        expect(JSON.stringify(s.Condition?.ArnLike?.['kms:EncryptionContext:aws:logs:arn'])).toContain('":log-group:*"');
        expect(JSON.stringify(s.Condition?.ArnLike?.['kms:EncryptionContext:aws:logs:arn'])).toContain('"AWS::AccountId"');
      } else {
        expect(s.Condition?.StringEquals?.['aws:SourceAccount']).toEqual(account);
        expect(conditionKeys(s)).toContain('aws:SourceArn');
      }
    }
  });

  it('limit each service to its own resources of this account', () => {
    const sourceArn = (service: string) =>
      JSON.stringify(byService.find((s) => services(s)[0] === service)!.Condition!.ArnLike!['aws:SourceArn']);
    expect(sourceArn('events.amazonaws.com')).toMatch(/:events:.*:rule\/\*"/);
    expect(sourceArn('cloudwatch.amazonaws.com')).toMatch(/:cloudwatch:.*:alarm:\*"/);
    expect(sourceArn('cloudtrail.amazonaws.com')).toMatch(/:cloudtrail:.*:trail\/\*"/);
    for (const service of ['events.amazonaws.com', 'cloudwatch.amazonaws.com', 'sns.amazonaws.com']) {
      expect(conditionKeys(byService.find((s) => services(s)[0] === service)!)).toContain('kms:EncryptionContext:aws:sns:topicArn');
    }
  });

  it("let EventBridge publish to the topic from this account's rules only", () => {
    const topicPolicy = Object.values(resources).find((r) => r.Type === 'AWS::SNS::TopicPolicy')!.Properties.PolicyDocument as {
      Statement: Statement[];
    };
    const events = topicPolicy.Statement.filter((s) => services(s).includes('events.amazonaws.com'));
    expect(events).toHaveLength(1);
    expect(events[0]!.Condition?.StringEquals?.['aws:SourceAccount']).toEqual(account);
  });
});

describe('WAF logging of the approval API', () => {
  it('logs the web ACL into an encrypted aws-waf-logs-* group with the query string, where the signature is, redacted', () => {
    const [config] = Object.values(resources).filter((r) => r.Type === 'AWS::WAFv2::LoggingConfiguration');
    expect(config).toBeDefined();
    expect(config!.Properties.ResourceArn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/WebAcl/), 'Arn'] });
    expect(config!.Properties.RedactedFields).toEqual([{ QueryString: {} }]);
    const destination = JSON.stringify(config!.Properties.LogDestinationConfigs);
    const [groupId] = Object.entries(resources).find(([id, r]) => r.Type === 'AWS::Logs::LogGroup' && destination.includes(`"${id}"`))!;
    expect(resources[groupId]!.Properties.LogGroupName).toMatch(/^aws-waf-logs-/);
    expect(resources[groupId]!.Properties.KmsKeyId).toBeDefined();
  });
});
