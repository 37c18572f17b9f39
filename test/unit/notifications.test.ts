import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { mockClient } from 'aws-sdk-client-mock';
import type { Finding } from '../../core/finding';
import { parsePolicy } from '../../controls/policy';
import { RampartStack } from '../../infra/stack';
import { textOf } from '../../core/channels/email';
import { escapeSlack, slackBlocksOf, slackChannel } from '../../core/channels/slack';
import { attributesOf, subjectOf, type Notification } from '../../core/notify';
import { forHtml, forSlack, forTerminal } from '../../core/neutralise';
import { TAMPER_ALERT_PREFIX } from '../../core/topic-messages';
import { channelNotifierDepsFromEnv, makeChannelNotifier, type ChannelNotifierDeps } from '../../handlers/channel-notifier';
import { publishNotification } from '../../remediators/notifier';
import { noAwsClients, fixture } from '../helpers';

const FINDING: Finding = {
  id: 'f1',
  control: 's3-default-encryption',
  severity: 'medium',
  resourceArn: 'arn:aws:s3:::bucket-<script>&co',
  resourceType: 'AWS::S3::Bucket',
  region: 'us-east-1',
  account: '111122223333',
  observed: { algorithm: 'AES256' },
  desired: { algorithm: 'aws:kms' },
  violation: 'bucket has default encryption AES256, policy requires aws:kms <@U123|everyone>',
  eventId: 'e1',
  eventName: 'DeleteBucketEncryption',
  actor: { arn: 'arn:aws:iam::111122223333:user/mallory`<!channel>`' },
};

describe('notification rendering', () => {
  it('escapes event text in Slack blocks so it cannot ping or link', () => {
    const blocks = JSON.stringify(slackBlocksOf({ kind: 'detected', finding: FINDING }));

    expect(blocks).not.toContain('<@U123');
    expect(blocks).not.toContain('<!channel>');
    expect(blocks).not.toContain('<script>');
    expect(blocks).toContain('&lt;@U123|everyone&gt;');
    expect(escapeSlack('a & <b>')).toBe('a &amp; &lt;b&gt;');
  });

  it('puts Approve/Reject buttons carrying the approval id on an approval request', () => {
    const n: Notification = {
      kind: 'awaiting-approval',
      finding: FINDING,
      approval: {
        id: 'f1-1',
        approver: 'alice@example.com',
        approveUrl: 'https://x/a',
        rejectUrl: 'https://x/r',
        expiresAt: '2024-06-04T16:00:00.000Z',
      },
    };

    const actions = slackBlocksOf(n, { buttons: true }).find((b) => b.type === 'actions') as {
      elements: Array<{ action_id: string; value: string }>;
    };

    expect(actions.elements.map((e) => [e.action_id, e.value])).toEqual([
      ['approve', 'f1-1'],
      ['reject', 'f1-1'],
    ]);
    expect(textOf(n)).toContain('Your personal links, valid until 2024-06-04T16:00:00.000Z; the decision is recorded as alice@example.com');
    expect(textOf(n)).toContain('\nApprove: https://x/a\n');
  });

  it('asks Slack for a confirmation dialog on Approve, naming the call and the resource within Block Kit limits', () => {
    const n: Notification = {
      kind: 'awaiting-approval',
      finding: { ...FINDING, account: '111122223333', region: 'us-east-1', resourceArn: `arn:aws:s3:::${'b'.repeat(400)}` },
      change: { service: 's3', operation: 'PutBucketEncryption', region: 'us-east-1', input: {} },
      approval: { id: 'f1-1', expiresAt: '2024-06-04T16:00:00.000Z' },
    };

    const actions = slackBlocksOf(n, { buttons: true }).find((b) => b.type === 'actions') as {
      elements: Array<{ action_id: string; confirm?: Record<string, { type: string; text: string }> }>;
    };
    const [approve, reject] = actions.elements;

    expect(approve?.confirm?.title).toEqual({ type: 'plain_text', text: 'Approve this fix?' });
    expect(approve?.confirm?.text?.text).toMatch(/^PutBucketEncryption on arn:aws:s3:::b+/);
    expect(approve?.confirm?.text?.text.length).toBeLessThanOrEqual(300);
    expect(approve?.confirm?.confirm?.text.length).toBeLessThanOrEqual(30);
    expect(approve?.confirm?.deny).toEqual({ type: 'plain_text', text: 'Cancel' });
    expect(reject?.confirm).toBeUndefined();
  });

  it('shows the follow-up calls of a change and its notice in email and Slack', () => {
    const n: Notification = {
      kind: 'awaiting-approval',
      finding: FINDING,
      change: {
        service: 'apigateway',
        operation: 'UpdateMethod',
        region: 'eu-west-1',
        input: { restApiId: 'a1b2c3d4e5' },
        followUps: [{ service: 'apigateway', operation: 'CreateDeployment', region: 'eu-west-1', input: { stageName: 'prod' } }],
        notice: 'A deployment also ships every other undeployed change of the API.',
      },
      approval: { id: 'f1-1', expiresAt: '2024-06-04T16:00:00.000Z' },
    };
    const slack = JSON.stringify(slackBlocksOf(n));

    expect(textOf(n)).toContain(
      'Change:   UpdateMethod in eu-west-1: {"restApiId":"a1b2c3d4e5"}, then CreateDeployment {"stageName":"prod"}. ' +
        'A deployment also ships every other undeployed change of the API.',
    );
    expect(slack).toContain('then CreateDeployment');
    expect(slack).toContain('A deployment also ships every other undeployed change of the API.');
  });

  it('keeps SNS subjects within 100 printable ASCII characters', () => {
    const subject = subjectOf({ kind: 'loop-suspected', finding: { ...FINDING, resourceArn: `arn:aws:s3:::${'ü'.repeat(200)}` } });

    expect(subject.length).toBe(100);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
  });

  it('sets filterable message attributes; a loop or failure is always high severity', () => {
    expect(attributesOf({ kind: 'loop-suspected', finding: FINDING })).toEqual({
      control: { DataType: 'String', StringValue: 's3-default-encryption' },
      severity: { DataType: 'String', StringValue: 'high' },
      outcome: { DataType: 'String', StringValue: 'loop-suspected' },
      account: { DataType: 'String', StringValue: '111122223333' },
      region: { DataType: 'String', StringValue: 'us-east-1' },
    });
  });

  it('publishes text for email and the notification as JSON for Lambda subscribers', async () => {
    const sns = mockClient(SNSClient);
    sns.on(PublishCommand).resolves({});
    const n: Notification = { kind: 'remediated', finding: FINDING, reason: 'PutBucketEncryption applied and verified' };

    await publishNotification(
      new SNSClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
      'arn:aws:sns:us-east-1:111122223333:t',
      n,
    );

    const input = sns.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(input).toMatchObject({ TopicArn: 'arn:aws:sns:us-east-1:111122223333:t', MessageStructure: 'json', Subject: subjectOf(n) });
    const message = JSON.parse(String(input.Message)) as Record<string, string>;
    expect(message.email).toBe(textOf(n));
    expect(message.default).toBe(textOf(n));
    expect(JSON.parse(message.lambda!)).toEqual(n);
    sns.restore();
  });
});

describe('the Slack notifier', () => {
  const record = (message: string, extra: Record<string, unknown> = {}) => ({
    Sns: { MessageId: 'm-1', Message: message, Subject: null, MessageAttributes: {}, ...extra },
  });
  const deps = (buttons = false, post: unknown = okPost()): ChannelNotifierDeps => ({
    channel: slackChannel,
    settings: slackChannel.settingsFromEnv({
      RAMPART_SLACK_WEBHOOK_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:slack-webhook',
      RAMPART_SLACK_BUTTONS: String(buttons),
    }),
    io: { secrets: { get: async () => 'https://hooks.slack.invalid/services/T/B/X' }, post: post as typeof fetch, client: noAwsClients },
  });
  const makeSlackNotifier = (getDeps: () => ChannelNotifierDeps, post: typeof fetch) =>
    makeChannelNotifier(() => ({ ...getDeps(), io: { ...getDeps().io, post } }));
  const okPost = () => jest.fn(async () => new Response('ok', { status: 200 }));
  const posted = (post: jest.Mock, call = 0) =>
    JSON.parse(String((post.mock.calls[call] as unknown as [string, RequestInit])[1].body)) as {
      text: string;
      blocks?: Array<Record<string, unknown>>;
    };
  const APPROVAL: Notification = {
    kind: 'awaiting-approval',
    finding: FINDING,
    approval: { id: 'a1', expiresAt: '2024-06-04T16:00:00.000Z' },
  };

  it('posts a Rampart notification as Block Kit to the webhook from Secrets Manager', async () => {
    const post = okPost();
    const notifier = makeSlackNotifier(() => deps(), post as unknown as typeof fetch);

    const result = await notifier({ Records: [record(JSON.stringify({ kind: 'detected', finding: FINDING }))] } as never);

    expect(result).toEqual({ posted: 1, skipped: 0 });
    expect((post.mock.calls[0] as unknown as [string])[0]).toBe('https://hooks.slack.invalid/services/T/B/X');
    expect(posted(post)).toEqual({
      text: escapeSlack(subjectOf({ kind: 'detected', finding: FINDING })),
      blocks: slackBlocksOf({ kind: 'detected', finding: FINDING }),
    });
  });

  it('shows Approve/Reject buttons only when the approval API has a Slack signing secret', async () => {
    const withSecret = okPost();
    const without = okPost();

    await makeSlackNotifier(
      () => deps(true),
      withSecret as unknown as typeof fetch,
    )({ Records: [record(JSON.stringify(APPROVAL))] } as never);
    await makeSlackNotifier(
      () => deps(false),
      without as unknown as typeof fetch,
    )({ Records: [record(JSON.stringify(APPROVAL))] } as never);

    expect(posted(withSecret).blocks?.some((b) => b.type === 'actions')).toBe(true);
    expect(posted(without).blocks?.some((b) => b.type === 'actions')).toBe(false);
    expect(JSON.stringify(posted(without).blocks)).toContain('rampart approvals approve a1');
  });

  it('renders a CloudWatch alarm: name, state, reason', async () => {
    const post = okPost();
    const alarm = fixture('sns/cloudwatch-AlarmStateChange.message-constructed.json');

    await makeSlackNotifier(
      () => deps(),
      post as unknown as typeof fetch,
    )({ Records: [record(JSON.stringify(alarm), { Subject: 'ALARM: "Rampart-DeadLetters" in US East (N. Virginia)' })] } as never);

    const message = posted(post);
    expect(message.text).toBe('[Rampart] Alarm ALARM: Rampart-DeadLetters');
    const text = JSON.stringify(message.blocks);
    expect(text).toContain('Alarm ALARM: Rampart-DeadLetters');
    expect(text).toContain('OK → ALARM');
    expect(text).toContain('Threshold Crossed: 1 out of the last 1 datapoints');
  });

  it('renders a tamper alert delivered as the whole EventBridge event: who did what to which resource', async () => {
    const post = okPost();

    await makeSlackNotifier(
      () => deps(),
      post as unknown as typeof fetch,
    )({ Records: [record(JSON.stringify(fixture('kms-DisableKey.eventbridge-wrapped.json')))] } as never);

    const message = posted(post);
    expect(message.text).toBe(
      '[Rampart] HIGH: Guard tampering: DisableKey by arn:aws:iam::111122223333:user/Alice on 1234abcd-12ab-34cd-56ef-1234567890ab',
    );
    const fields = JSON.stringify(message.blocks);
    expect(fields).toContain('`arn:aws:iam::111122223333:user/Alice`');
    expect(fields).toContain('`kms.amazonaws.com DisableKey`');
    expect(fields).toContain('`1234abcd-12ab-34cd-56ef-1234567890ab`');
  });

  it('posts a message of no known shape as text instead of throwing', async () => {
    const post = okPost();
    const text = 'Someone published this by hand: <!channel> check the guard';

    const result = await makeSlackNotifier(
      () => deps(),
      post as unknown as typeof fetch,
    )({ Records: [record(text), record('{"unexpected": true}'), record('[1,2]')] } as never);

    expect(result).toEqual({ posted: 3, skipped: 0 });
    expect(posted(post, 0).text).toBe(escapeSlack(text));
    expect(posted(post, 1).text).toBe(escapeSlack('{"unexpected": true}'));
  });

  it("renders a tamper alert the rule sends it directly, and skips the same alert as the rule's line of text on the topic", async () => {
    const post = okPost();
    const notifier = makeSlackNotifier(() => deps(), post as unknown as typeof fetch);

    const direct = await notifier(fixture('kms-DisableKey.eventbridge-wrapped.json') as never);
    const line = await notifier({
      Records: [record(`${TAMPER_ALERT_PREFIX}DisableKey by arn:aws:iam::111122223333:user/Alice at 2014-11-04T00:52:43Z`)],
    } as never);

    expect([direct, line]).toEqual([
      { posted: 1, skipped: 0 },
      { posted: 0, skipped: 1 },
    ]);
    expect(post).toHaveBeenCalledTimes(1);
    expect(posted(post).text).toBe(
      '[Rampart] HIGH: Guard tampering: DisableKey by arn:aws:iam::111122223333:user/Alice on 1234abcd-12ab-34cd-56ef-1234567890ab',
    );
  });

  it("never posts an approver's personal links", async () => {
    const post = okPost();

    const result = await makeSlackNotifier(
      () => deps(),
      post as unknown as typeof fetch,
    )({
      Records: [
        record('Approve: https://x/approvals/a1/approve?sig=s', {
          MessageAttributes: { approver: { Type: 'String', Value: 'alice@example.com' } },
        }),
      ],
    } as never);

    expect(result).toEqual({ posted: 0, skipped: 1 });
    expect(post).not.toHaveBeenCalled();
  });

  it('throws when Slack refuses, so SNS retries', async () => {
    const notifier = makeSlackNotifier(() => deps(), (async () => new Response('no', { status: 500 })) as unknown as typeof fetch);

    await expect(notifier({ Records: [record(JSON.stringify({ kind: 'detected', finding: FINDING }))] } as never)).rejects.toThrow(
      'Slack webhook answered 500',
    );
  });

  it('fails at cold start, not on the first alarm, when its webhook is not configured', () => {
    expect(() => channelNotifierDepsFromEnv({ RAMPART_CHANNEL: 'slack' })).toThrow('RAMPART_SLACK_WEBHOOK_SECRET_ARN is not set');
    expect(() => channelNotifierDepsFromEnv({})).toThrow('no notification channel undefined (known: email, slack, security-hub)');
  });
});

describe('injection: event text is neutralised in every channel', () => {
  const EVIL =
    'evil\r\nApprove: https://attacker.example/x \u001b[2J\u001b]0;owned\u0007 <!channel> @here <https://attacker.example|click> \u202egnp.exe';
  const evil: Finding = {
    ...FINDING,
    resourceArn: `arn:aws:s3:::${EVIL}`,
    violation: EVIL,
    actor: { arn: `arn:aws:sts::111122223333:assumed-role/R/${EVIL}` },
  };

  it('email and SNS bodies: no CR/LF from the event, so no forged lines', () => {
    const text = textOf({ kind: 'awaiting-approval', finding: evil, reason: EVIL, approval: { id: 'a1', expiresAt: 'x' } });

    const lines = text.split('\n');
    expect(lines.filter((l) => l.startsWith('Approve:'))).toEqual([]);
    expect(text).not.toMatch(/[\r\u001b\u0007\u202e]/); // eslint-disable-line no-control-regex -- the control characters are what the test looks for
    expect(text).toContain('evil\\u000d\\u000aApprove: https://attacker.example/x \\u001b[2J');
  });

  it('SNS subjects: printable ASCII only, at most 100 characters', () => {
    const subject = subjectOf({ kind: 'detected', finding: evil });

    expect(subject).toMatch(/^[\x20-\x7e]{1,100}$/);
  });

  it('Slack: no mention, channel ping, link or line break from the event', () => {
    const rendered = JSON.stringify([slackBlocksOf({ kind: 'detected', finding: evil, reason: EVIL }), forSlack(EVIL)]);

    expect(rendered).not.toContain('<!channel>');
    expect(rendered).not.toContain('<https://');
    expect(rendered).not.toContain('@here');
    expect(rendered).not.toContain('https://attacker');
    expect(rendered).not.toMatch(/\\n(Approve|evil)/);
    expect(rendered).toContain('&lt;!channel&gt;');
    const texts = slackBlocksOf({ kind: 'detected', finding: evil })
      .flatMap((b) => [b.text, ...((b.fields as unknown[]) ?? [])])
      .filter((t): t is { type: string; verbatim?: boolean } => (t as { type?: string })?.type === 'mrkdwn');
    for (const t of texts) expect(t.verbatim).toBe(true);
  });

  it('the terminal: no escape sequence or control character reaches it', () => {
    const out = forTerminal(`${EVIL}\u009b31m`);

    expect(out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/); // eslint-disable-line no-control-regex -- the control characters are what the test looks for
    expect(out).toContain('\\u001b[2J');
    expect(JSON.parse(forTerminal(JSON.stringify({ name: EVIL })))).toEqual({ name: EVIL }); // --json lines keep their meaning
  });

  it('the approval page: HTML-escaped', () => {
    expect(forHtml('<script>alert("x")</script>')).toBe('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;');
  });
});

describe('who receives what on the topic (synthesized template)', () => {
  const template = Template.fromStack(
    new RampartStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Rampart', {
      policy: parsePolicy({
        notifications: {
          emails: ['secops@example.com', 'alice@example.com'],
          slack: {
            webhookSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:w',
            signingSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:s',
            teamId: 'T0RAMPART',
            appId: 'A0RAMPART',
          },
        },
        approvals: { approvers: { emails: ['alice@example.com', 'bob@example.com'] } },
      }),
    }),
  );
  const filterOf = (protocol: string, endpoint?: string) =>
    Object.values(
      template.findResources('AWS::SNS::Subscription', { Properties: { Protocol: protocol, ...(endpoint ? { Endpoint: endpoint } : {}) } }),
    ).map((r) => (r as { Properties: { FilterPolicy?: unknown } }).Properties.FilterPolicy);

  it("sends an approver's personal links to that approver only", () => {
    expect(filterOf('email', 'secops@example.com')).toEqual([{ approver: [{ exists: false }] }]);
    expect(filterOf('email', 'bob@example.com')).toEqual([{ approver: ['bob@example.com'] }]);
    expect(filterOf('email', 'alice@example.com')).toEqual([
      { $or: [{ approver: ['alice@example.com'] }, { approver: [{ exists: false }] }] },
    ]);
    expect(filterOf('lambda')).toEqual([{ approver: [{ exists: false }] }]);
  });

  it("sends tamper alerts to the topic as a line of text and to each channel's function as the whole event", () => {
    const tamper = Object.values(
      template.findResources('AWS::Events::Rule', { Properties: { Description: Match.stringLikeRegexp('tamper alert') } }),
    ) as Array<{ Properties: { Targets: Array<Record<string, unknown>> } }>;
    const notifier = Object.keys(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Environment: { Variables: Match.objectLike({ RAMPART_CHANNEL: 'slack' }) } },
      }),
    );

    expect(tamper.length).toBeGreaterThan(5);
    expect(notifier).toHaveLength(1);
    for (const { Properties } of tamper) {
      expect(Properties.Targets).toHaveLength(2);
      expect(Properties.Targets[0]).toMatchObject({
        InputTransformer: { InputTemplate: expect.stringContaining(`"${TAMPER_ALERT_PREFIX}<detail-eventName>`) },
        DeadLetterConfig: expect.anything(),
      });
      expect(Properties.Targets[1]).toEqual({
        Arn: { 'Fn::GetAtt': [notifier[0], 'Arn'] },
        Id: expect.any(String),
        DeadLetterConfig: expect.anything(),
      });
    }
  });

  it('turns the Slack buttons on when the approval API has the signing secret', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Environment: {
        Variables: Match.objectLike({
          RAMPART_SLACK_BUTTONS: 'true',
          RAMPART_SLACK_WEBHOOK_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:w',
        }),
      },
    });
  });
});
