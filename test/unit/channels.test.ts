import { PublishCommand, SNSClient, type PublishCommandInput } from '@aws-sdk/client-sns';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { SNSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { CHANNELS, type FunctionChannel, type NotificationChannel, type TopicChannel } from '../../core/channels';
import type { SlackMessage } from '../../core/channels/slack';
import type { ExemptionChange } from '../../core/exemptions';
import type { Finding } from '../../core/finding';
import { classifyTopicMessage, TAMPER_ALERT_PREFIX, type PublishedMessage, type TopicMessage } from '../../core/topic-messages';
import { makeChannelNotifier } from '../../handlers/channel-notifier';
import { Notifications } from '../../infra/constructs/notifications';
import { publishApprovalLinks, publishExemptionChange, publishNotification } from '../../remediators/notifier';
import { noAwsClients, fixture, policy } from '../helpers';

const FINDING: Finding = {
  id: 'f1',
  control: 's3-default-encryption',
  severity: 'medium',
  resourceArn: 'arn:aws:s3:::reports',
  resourceType: 'AWS::S3::Bucket',
  region: 'us-east-1',
  account: '111122223333',
  observed: { algorithm: 'AES256' },
  desired: { algorithm: 'aws:kms' },
  violation: 'bucket has default encryption AES256, policy requires aws:kms',
  eventId: 'e1',
  eventName: 'PutBucketEncryption',
  actor: { arn: 'arn:aws:iam::111122223333:user/mallory' },
};
const EXEMPTION: ExemptionChange = {
  change: 'added',
  resourceArn: 'arn:aws:s3:::logs',
  tagKey: 'rampart:exempt',
  tagValue: 'true',
  effect: 'exempt from every control',
  actor: { arn: 'arn:aws:iam::111122223333:user/rampart-operator' },
  eventId: 'e2',
  eventName: 'PutBucketTagging',
};

// one message of each kind the topic carries, and the headline a reader must see for it
const MESSAGES: Array<[TopicMessage, string]> = [
  [{ kind: 'notification', notification: { kind: 'detected', finding: FINDING } }, 'Policy violation detected'],
  [
    {
      kind: 'notification',
      notification: { kind: 'awaiting-approval', finding: FINDING, approval: { id: 'a1', expiresAt: '2024-06-04T16:00:00.000Z' } },
    },
    'Fix awaiting approval',
  ],
  [{ kind: 'exemption', exemption: EXEMPTION }, 'Exemption added'],
  [
    classifyTopicMessage(JSON.stringify(fixture('sns/cloudwatch-AlarmStateChange.message-constructed.json'))),
    'Alarm ALARM: Rampart-DeadLetters',
  ],
  [classifyTopicMessage(JSON.stringify(fixture('kms-DisableKey.eventbridge-wrapped.json'))), 'Guard tampering: DisableKey'],
  [classifyTopicMessage('published by hand: disk nearly full'), 'published by hand: disk nearly full'],
];

/** What a channel's rendering shows a person, as one string. */
function shown(channel: NotificationChannel, message: TopicMessage): string {
  if (channel.delivery === 'topic') return channel.render(message);
  const settings =
    channel.id === 'slack' ? { webhookSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:w', buttons: false } : {};
  const texts: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') texts.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'object' && v !== null)
      for (const [k, x] of Object.entries(v)) if (k === 'text' || k === 'fields' || k === 'elements' || typeof x === 'object') walk(x);
  };
  walk((channel.render(message, settings) as SlackMessage).blocks);
  return texts.join('\n');
}

describe('every channel renders every message kind', () => {
  it('lists email and Slack for people, and Security Hub for findings', () => {
    expect(CHANNELS.map((c) => [c.id, c.delivery, c.findingsOnly ?? false])).toEqual([
      ['email', 'topic', false],
      ['slack', 'function', false],
      ['security-hub', 'function', true],
    ]);
  });

  for (const channel of CHANNELS.filter((c) => !c.findingsOnly)) {
    it.each(MESSAGES.map(([m, headline]) => [m.kind, headline, m] as const))(
      `${channel.id}: %s shows "%s", not its JSON`,
      (_kind, headline, message) => {
        const text = shown(channel, message);

        expect(text).toContain(headline);
        // laid out for a reader, not dumped as it came
        for (const key of ['"kind"', '"finding"', '"exemption"', '"AlarmName"', '"detail-type"']) expect(text).not.toContain(key);
      },
    );
  }

  it('slack: an exemption notice as its own blocks (who, tag, resource), not as the raw notice', async () => {
    const post = jest.fn(async () => new Response('ok', { status: 200 }));
    const slack = CHANNELS.find((c): c is FunctionChannel => c.id === 'slack')!;
    const notifier = makeChannelNotifier(() => ({
      channel: slack,
      settings: slack.settingsFromEnv({ RAMPART_SLACK_WEBHOOK_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:w' }),
      io: { secrets: { get: async () => 'https://hooks.slack.invalid/x' }, post: post as unknown as typeof fetch, client: noAwsClients },
    }));

    await notifier({
      Records: [
        {
          Sns: {
            MessageId: 'm-1',
            Message: JSON.stringify({ kind: 'exemption-changed', exemption: EXEMPTION }),
            Subject: null,
            MessageAttributes: {},
          },
        },
      ],
    } as never);

    const body = JSON.parse(String((post.mock.calls[0] as unknown as [string, RequestInit])[1].body)) as SlackMessage;
    expect(body.text).toBe('[Rampart] Exemption added: arn:aws:s3:::logs');
    expect(body.blocks?.[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'Exemption added', emoji: false } });
    expect(JSON.stringify(body.blocks)).toContain('*By*\\n`arn:aws:iam::111122223333:user/rampart-operator`');
    expect(JSON.stringify(body.blocks)).not.toContain('exemption-changed');
  });

  it('renders a message of no known shape as text, and never throws', () => {
    for (const raw of ['', 'plain words', '{"unexpected": true}', '[1,2]', 'null', '{"kind":"detected","finding":null}']) {
      for (const channel of CHANNELS.filter((c) => !c.findingsOnly)) expect(() => shown(channel, classifyTopicMessage(raw))).not.toThrow();
    }
  });
});

describe('a third channel added to the list gets every message, touching nothing else', () => {
  // a pager-like channel: its own function, a secret, its own format
  const delivered: Array<{ rendered: string; room: string }> = [];
  const pager: FunctionChannel<{ room: string; keySecretArn: string }, string> = {
    id: 'fake-pager',
    describe: 'a fake pager, for the test',
    delivery: 'function',
    environment: (p) =>
      p.notifications.emails.length > 0
        ? { FAKE_ROOM: 'ops', FAKE_KEY_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:pager' }
        : undefined,
    secretArns: () => ['arn:aws:secretsmanager:us-east-1:111122223333:secret:pager'],
    settingsFromEnv: (env) => ({ room: env.FAKE_ROOM!, keySecretArn: env.FAKE_KEY_SECRET_ARN! }),
    render: (message) =>
      `${message.kind}: ${message.kind === 'notification' ? message.notification.kind : message.kind === 'exemption' ? message.exemption.change : message.kind === 'text' ? message.text : message.kind}`,
    async deliver(rendered, settings, io) {
      expect(await io.secrets.get(settings.keySecretArn)).toBe('pager-key');
      delivered.push({ rendered, room: settings.room });
    },
  };
  // and one SNS delivers itself, over another protocol
  const sms: TopicChannel = {
    id: 'fake-sms',
    describe: 'a fake SMS channel',
    delivery: 'topic',
    protocol: 'sms',
    render: (m) => `SMS ${m.kind}`,
    subscriptions: () => [{ endpoint: '+15555550100', filterPolicy: { severity: ['high'] } }],
  };
  const channels = [...CHANNELS, pager, sms];
  const POLICY = policy({ notifications: { emails: ['secops@example.com'] }, approvals: { approvers: { emails: ['alice@example.com'] } } });

  it('publishes and delivers through the list', async () => {
    const sns = mockClient(SNSClient);
    sns.on(PublishCommand).resolves({});
    const client = new SNSClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    const topic = 'arn:aws:sns:us-east-1:111122223333:Rampart';
    const approval: PublishedMessage = {
      kind: 'notification',
      notification: { kind: 'awaiting-approval', finding: FINDING, approval: { id: 'a1', expiresAt: '2024-06-04T16:00:00.000Z' } },
    };

    await publishNotification(client, topic, { kind: 'remediated', finding: FINDING, reason: 'applied and verified' }, channels);
    await publishExemptionChange(client, topic, EXEMPTION, channels);
    await publishApprovalLinks(
      client,
      topic,
      approval.notification,
      ['alice@example.com'],
      (who, decision) => `https://x/${decision}?by=${who}`,
      channels,
    );
    const published = sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
    sns.restore();

    // each SNS-delivered channel has its body in every publish
    expect(published.map((p) => Object.keys(JSON.parse(p.Message!) as object).sort())).toEqual([
      ['default', 'email', 'lambda', 'sms'],
      ['default', 'email', 'lambda', 'sms'],
      ['default', 'email', 'sms'],
    ]);
    expect((JSON.parse(published[0]!.Message!) as { sms: string }).sms).toBe('SMS notification');

    // SNS hands the function every record of the topic; AWS's own messages (an alarm, a tamper alert) arrive as AWS wrote them
    const record = (p: PublishCommandInput) => ({
      Sns: {
        MessageId: 'm',
        Subject: p.Subject ?? null,
        Message: ((b: Record<string, string>) => b.lambda ?? b.default!)(JSON.parse(p.Message!) as Record<string, string>),
        MessageAttributes: Object.fromEntries(
          Object.entries(p.MessageAttributes ?? {}).map(([k, v]) => [k, { Type: v.DataType, Value: v.StringValue }]),
        ),
      },
    });
    const raw = (message: string) => ({ Sns: { MessageId: 'm', Subject: null, Message: message, MessageAttributes: {} } });
    const event = {
      Records: [
        ...published.map(record),
        raw(JSON.stringify(fixture('sns/cloudwatch-AlarmStateChange.message-constructed.json'))),
        raw(JSON.stringify(fixture('kms-DisableKey.eventbridge-wrapped.json'))),
        raw('published by hand: disk nearly full'),
        // the tamper rule's line for email: the function has the whole event from the rule
        raw(`${TAMPER_ALERT_PREFIX}DisableKey by arn:aws:iam::111122223333:user/Alice at 2014-11-04T00:52:43Z`),
      ],
    } as unknown as SNSEvent;
    // its settings from the environment infra gives its function
    const env = pager.environment(POLICY)!;
    const notifier = makeChannelNotifier(() => ({
      channel: pager,
      settings: pager.settingsFromEnv(env),
      io: { secrets: { get: async () => 'pager-key' }, post: fetch, client: noAwsClients },
    }));

    expect(await notifier(event)).toEqual({ posted: 5, skipped: 2 });
    expect(delivered).toEqual(
      ['notification: remediated', 'exemption: added', 'alarm: alarm', 'tamper: tamper', 'text: published by hand: disk nearly full'].map(
        (rendered) => ({ rendered, room: 'ops' }),
      ),
    );
  });

  it('gets its function, environment, secret and subscriptions from the list (synthesized template)', () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Channels');
    new Notifications(stack, 'Notifications', {
      policy: POLICY,
      key: new kms.Key(stack, 'Key'),
      deadLetterQueue: new sqs.Queue(stack, 'DeadLetters'),
      channels,
    });
    const template = Template.fromStack(stack);

    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ RAMPART_CHANNEL: 'fake-pager', FAKE_ROOM: 'ops' }) },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'secretsmanager:GetSecretValue',
            Resource: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:pager-??????',
          }),
        ]),
      },
    });
    const subscriptions = Object.values(template.findResources('AWS::SNS::Subscription')).map(
      (r) => (r as { Properties: { Protocol: string; Endpoint: unknown; FilterPolicy?: unknown } }).Properties,
    );
    expect(subscriptions.map((s) => [s.Protocol, typeof s.Endpoint === 'string' ? s.Endpoint : 'function', s.FilterPolicy]).sort()).toEqual(
      [
        ['email', 'alice@example.com', { approver: ['alice@example.com'] }],
        ['email', 'secops@example.com', { approver: [{ exists: false }] }],
        ['lambda', 'function', { approver: [{ exists: false }] }],
        ['sms', '+15555550100', { severity: ['high'] }],
      ].sort(),
    );
  });

  it('builds no subscription and no function for a channel the list does not hold', () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'NoChannels');
    new Notifications(stack, 'Notifications', {
      policy: POLICY,
      key: new kms.Key(stack, 'Key'),
      deadLetterQueue: new sqs.Queue(stack, 'DeadLetters'),
      channels: [],
    });
    const template = Template.fromStack(stack);

    template.resourceCountIs('AWS::SNS::Subscription', 0);
    template.resourceCountIs('AWS::Lambda::Function', 0);
  });
});
