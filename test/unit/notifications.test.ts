import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import type { Finding } from '../../core/finding';
import { attributesOf, escapeSlack, slackBlocksOf, subjectOf, textOf, type Notification } from '../../core/notify';
import type { GuardDeps } from '../../remediators/handlers/deps';
import { makeSlackNotifier } from '../../remediators/handlers/slack-notifier';
import { publishNotification } from '../../remediators/notifier';

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
    const n: Notification = { kind: 'awaiting-approval', finding: FINDING, approval: { id: 'f1-1', approveUrl: 'https://x/a', rejectUrl: 'https://x/r', expiresAt: '2024-06-04T16:00:00.000Z' } };

    const actions = slackBlocksOf(n).find((b) => b.type === 'actions') as { elements: Array<{ action_id: string; value: string }> };

    expect(actions.elements.map((e) => [e.action_id, e.value])).toEqual([
      ['approve', 'f1-1'],
      ['reject', 'f1-1'],
    ]);
    expect(textOf(n)).toContain('Approve (until 2024-06-04T16:00:00.000Z): https://x/a');
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

    await publishNotification(new SNSClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }), 'arn:aws:sns:us-east-1:111122223333:t', n);

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
  const record = (n: Notification) => ({ Sns: { Message: JSON.stringify(n) } });
  const deps = {
    config: { slackWebhookSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:slack-webhook' },
    secrets: { get: async () => 'https://hooks.slack.invalid/services/T/B/X' },
  } as unknown as GuardDeps;

  it('posts Block Kit to the webhook from Secrets Manager', async () => {
    const post = jest.fn(async () => new Response('ok', { status: 200 }));
    const notifier = makeSlackNotifier(() => deps, post as unknown as typeof fetch);

    const result = await notifier({ Records: [record({ kind: 'detected', finding: FINDING })] } as never);

    expect(result).toEqual({ posted: 1 });
    const [url, init] = post.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('https://hooks.slack.invalid/services/T/B/X');
    expect(JSON.parse(String(init.body))).toEqual({ text: subjectOf({ kind: 'detected', finding: FINDING }), blocks: slackBlocksOf({ kind: 'detected', finding: FINDING }) });
  });

  it('throws when Slack refuses, so SNS retries', async () => {
    const notifier = makeSlackNotifier(() => deps, (async () => new Response('no', { status: 500 })) as unknown as typeof fetch);

    await expect(notifier({ Records: [record({ kind: 'detected', finding: FINDING })] } as never)).rejects.toThrow('Slack webhook answered 500');
  });
});
