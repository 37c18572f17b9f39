import {
  BatchImportFindingsCommand,
  BatchUpdateFindingsCommand,
  SecurityHubClient,
  type AwsSecurityFinding,
  type BatchImportFindingsCommandInput,
} from '@aws-sdk/client-securityhub';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { SNSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { securityHubChannel, securityHubDeliveryOf, type SecurityHubSettings } from '../../core/channels/security-hub';
import type { Finding } from '../../core/finding';
import type { Notification, NotificationKind } from '../../core/notify';
import { DETECTORS } from '../../controls';
import { makeChannelNotifier } from '../../handlers/channel-notifier';
import { Notifications } from '../../infra/constructs/notifications';
import { fixture, policy } from '../helpers';

const NOW = new Date('2024-06-03T16:00:00Z');
const FINDING: Finding = {
  id: '0123456789abcdef01234567',
  control: 'apigateway-waf',
  severity: 'high',
  resourceArn: 'arn:aws:apigateway:eu-west-1::/restapis/a1b2c3d4e5/stages/prod',
  resourceType: 'AWS::ApiGateway::Stage',
  region: 'eu-west-1',
  account: '111122223333',
  observed: { webAclArn: null },
  desired: { webAclArn: 'arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/edge/1' },
  violation: 'stage has no web ACL; the policy requires edge',
  eventId: 'e1',
  eventName: 'DisassociateWebACL',
  eventTime: '2024-06-03T15:42:10Z',
};
const SETTINGS: SecurityHubSettings = {
  account: '111122223333',
  region: 'eu-west-1',
  partition: 'aws',
  controlIds: { 'apigateway-waf': ['APIGateway.4'] },
};
const notification = (kind: NotificationKind, reason?: string): Notification => ({ kind, finding: FINDING, ...(reason ? { reason } : {}) });

// the top-level attributes the ASFF reference says BatchImportFindings requires
// (https://docs.aws.amazon.com/securityhub/latest/userguide/asff-required-attributes.html)
const REQUIRED = [
  'AwsAccountId',
  'CreatedAt',
  'Description',
  'GeneratorId',
  'Id',
  'ProductArn',
  'Resources',
  'SchemaVersion',
  'Severity',
  'Title',
  'Types',
  'UpdatedAt',
] as const;

describe('findings in AWS Security Hub', () => {
  it('imports an open finding as FAILED and ACTIVE, with every required ASFF attribute and its Security Hub control', () => {
    const { finding, close } = securityHubDeliveryOf(notification('detected'), SETTINGS, NOW);

    for (const key of REQUIRED) expect(finding[key]).toBeDefined();
    expect(finding).toMatchObject({
      ProductArn: 'arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default',
      AwsAccountId: '111122223333',
      CreatedAt: '2024-06-03T15:42:10.000Z',
      UpdatedAt: NOW.toISOString(),
      Compliance: { Status: 'FAILED' },
      RecordState: 'ACTIVE',
      Resources: [{ Type: 'AwsApiGatewayStage', Id: FINDING.resourceArn, Region: 'eu-west-1', Partition: 'aws' }],
      ProductFields: expect.objectContaining({ 'rampart/outcome': 'detected', 'rampart/securityHubControlIds': 'APIGateway.4' }) as unknown,
    });
    expect(close).toBeUndefined();
  });

  it('keeps one Security Hub finding per Rampart finding: every step of its workflow updates the same one', () => {
    const ids = (['detected', 'awaiting-approval', 'remediated'] as const).map(
      (k) => securityHubDeliveryOf(notification(k), SETTINGS, NOW).finding.Id,
    );
    expect(new Set(ids).size).toBe(1);
  });

  it.each([
    ['remediated', 'PASSED', 'RESOLVED'],
    ['already-compliant', 'PASSED', 'RESOLVED'],
    ['resource-gone', 'NOT_AVAILABLE', 'RESOLVED'],
    ['exempt', 'NOT_AVAILABLE', 'SUPPRESSED'],
  ] as const)('closes a finding that ended %s: compliance %s, archived, workflow %s with a note', (kind, compliance, workflow) => {
    const { finding, close } = securityHubDeliveryOf(notification(kind, 'applied and verified'), SETTINGS, NOW);

    expect(finding.Compliance).toEqual({ Status: compliance });
    expect(finding.RecordState).toBe('ARCHIVED');
    expect(close).toEqual({
      Workflow: { Status: workflow },
      Note: { Text: `Rampart ${kind}: applied and verified`, UpdatedBy: 'rampart' },
    });
  });

  it.each(['rejected', 'expired', 'failed', 'loop-suspected', 'dry-run'] as const)(
    'leaves a finding that ended %s open (still FAILED)',
    (kind) => {
      const { finding, close } = securityHubDeliveryOf(notification(kind), SETTINGS, NOW);
      expect([finding.Compliance?.Status, finding.RecordState, close]).toEqual(['FAILED', 'ACTIVE', undefined]);
    },
  );

  it('names the matching Security Hub control of each registered control that has one', () => {
    const env = securityHubChannel.environment(policy({ integrations: { securityHub: true } }), { controls: DETECTORS })!;
    const ids = JSON.parse(env.RAMPART_SECURITY_HUB_CONTROLS!) as Record<string, string[]>;
    expect(ids['apigateway-waf']).toEqual(['APIGateway.4']);
    expect(ids['apigateway-throttling']).toBeUndefined(); // Security Hub has no throttling control
    for (const list of Object.values(ids)) for (const id of list) expect(id).toMatch(/^[A-Za-z0-9]+\.\d+$/);
    expect(securityHubChannel.environment(policy({}), { controls: DETECTORS })).toBeUndefined();
  });
});

describe('the Security Hub channel function', () => {
  const hub = mockClient(SecurityHubClient);
  const client = new SecurityHubClient({ region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  const notifier = () =>
    makeChannelNotifier(() => ({
      channel: securityHubChannel,
      settings: securityHubChannel.settingsFromEnv({
        AWS_REGION: 'eu-west-1',
        RAMPART_ACCOUNT: '111122223333',
        RAMPART_SECURITY_HUB_CONTROLS: '{"apigateway-waf":["APIGateway.4"]}',
      }),
      io: { secrets: { get: async () => '' }, post: fetch, client: () => client as never },
    }));
  const snsOf = (...messages: string[]) =>
    ({
      Records: messages.map((Message) => ({ Sns: { MessageId: 'm', Subject: null, Message, MessageAttributes: {} } })),
    }) as unknown as SNSEvent;
  // the function's body of a notification on the topic is the notification itself (remediators/notifier.ts)
  const published = (n: Notification) => JSON.stringify(n);

  beforeEach(() => {
    hub.reset();
    hub.on(BatchImportFindingsCommand).resolves({ SuccessCount: 1, FailedCount: 0, FailedFindings: [] });
    hub.on(BatchUpdateFindingsCommand).resolves({ ProcessedFindings: [], UnprocessedFindings: [] });
  });
  afterAll(() => hub.restore());

  it('imports each notification of a finding and resolves it when fixed; alarms and tamper alerts are not findings', async () => {
    const result = await notifier()(
      snsOf(
        published(notification('detected')),
        published(notification('remediated', 'applied and verified')),
        JSON.stringify(fixture('sns/cloudwatch-AlarmStateChange.message-constructed.json')),
        'published by hand: disk nearly full',
      ),
    );

    expect(result).toEqual({ posted: 2, skipped: 2 });
    const imports = hub
      .commandCalls(BatchImportFindingsCommand)
      .map((c) => (c.args[0].input as BatchImportFindingsCommandInput).Findings![0]!);
    expect(imports.map((f: AwsSecurityFinding) => [f.Compliance?.Status, f.RecordState])).toEqual([
      ['FAILED', 'ACTIVE'],
      ['PASSED', 'ARCHIVED'],
    ]);
    expect(hub).toHaveReceivedCommandTimes(BatchUpdateFindingsCommand, 1);
    expect(hub).toHaveReceivedCommandWith(BatchUpdateFindingsCommand, {
      FindingIdentifiers: [{ Id: imports[1]!.Id!, ProductArn: 'arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default' }],
      Workflow: { Status: 'RESOLVED' },
    });
  });

  it('throws when Security Hub refuses the finding inside a 200 answer, so SNS retries it and the dead-letter queue keeps it', async () => {
    hub.on(BatchImportFindingsCommand).resolves({
      SuccessCount: 0,
      FailedCount: 1,
      FailedFindings: [{ Id: 'x', ErrorCode: 'InvalidInput', ErrorMessage: 'Finding does not adhere to ASFF' }],
    });
    await expect(notifier()(snsOf(published(notification('detected'))))).rejects.toThrow(
      'Security Hub refused the finding: InvalidInput Finding does not adhere to ASFF',
    );
  });

  it('throws when the resolving update is not processed, and when Security Hub is not enabled', async () => {
    hub.on(BatchUpdateFindingsCommand).resolves({
      ProcessedFindings: [],
      UnprocessedFindings: [
        { FindingIdentifier: { Id: 'x', ProductArn: 'p' }, ErrorCode: 'FindingNotFound', ErrorMessage: 'not yet indexed' },
      ],
    });
    await expect(notifier()(snsOf(published(notification('remediated'))))).rejects.toThrow(
      'Security Hub did not resolve the finding: FindingNotFound not yet indexed',
    );
    hub
      .on(BatchImportFindingsCommand)
      .rejects(Object.assign(new Error('Account is not subscribed to AWS Security Hub'), { name: 'InvalidAccessException' }));
    await expect(notifier()(snsOf(published(notification('detected'))))).rejects.toThrow('not subscribed');
  });

  it('fails at cold start without its account and region', () => {
    expect(() => securityHubChannel.settingsFromEnv({})).toThrow('AWS_REGION and RAMPART_ACCOUNT');
  });
});

describe('the Security Hub channel in the template', () => {
  // the partition stays a pseudo parameter (aws, aws-cn, aws-us-gov)
  const arnOf = (rest: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, rest]] });
  const synth = (securityHub: boolean) => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), `Hub${securityHub}`, {
      env: { account: '111122223333', region: 'eu-west-1' },
    });
    new Notifications(stack, 'Notifications', {
      policy: policy({ integrations: { securityHub } }),
      key: new kms.Key(stack, 'Key'),
      deadLetterQueue: new sqs.Queue(stack, 'DeadLetters'),
    });
    return Template.fromStack(stack);
  };

  it('gets a function only when the policy turns it on, allowed to import into the default product and update in its own hub only', () => {
    const on = synth(true);
    on.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ RAMPART_CHANNEL: 'security-hub', RAMPART_ACCOUNT: '111122223333' }) },
    });
    on.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'securityhub:BatchImportFindings',
            Resource: arnOf(':securityhub:eu-west-1:111122223333:product/111122223333/default'),
          }),
          Match.objectLike({
            Action: 'securityhub:BatchUpdateFindings',
            Resource: arnOf(':securityhub:eu-west-1:111122223333:hub/default'),
          }),
        ]),
      },
    });
    const off = synth(false);
    expect(JSON.stringify(off.toJSON())).not.toContain('securityhub:');
  });
});
