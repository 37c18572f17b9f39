import { Aws, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { grantSecretRead } from '../grants';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { Policy } from '../../core/policy';
import { CHANNELS, functionChannelsOf, topicChannelsOf, type NotificationChannel, type TopicChannel } from '../../core/channels';
import type { TopicProtocol } from '../../core/channels/channel';
import { APPROVER_ATTRIBUTE } from '../../core/topic-messages';
import { DETECTORS } from '../../controls';
import { RampartFunction } from './functions';

export interface NotificationsProps {
  policy: Policy;
  key: kms.IKey;
  deadLetterQueue: sqs.IQueue;
  /** The notification channels (default: the list, core/channels). */
  channels?: readonly NotificationChannel[];
}

// messages addressed to one approver carry their address; alarms and tamper alerts carry no attributes at all
const NOT_ADDRESSED = new sns.SubscriptionFilter([{ exists: false }]);

// the L2 subscription of each SNS protocol a channel may deliver through (their construct ids
// are the endpoints: existing email subscriptions keep theirs, so none is re-confirmed)
const SUBSCRIPTIONS: Record<TopicProtocol, (endpoint: string) => sns.ITopicSubscription> = {
  email: (endpoint) => new subscriptions.EmailSubscription(endpoint),
  'email-json': (endpoint) => new subscriptions.EmailSubscription(endpoint, { json: true }),
  sms: (endpoint) => new subscriptions.SmsSubscription(endpoint),
  http: (endpoint) => new subscriptions.UrlSubscription(endpoint, { protocol: sns.SubscriptionProtocol.HTTP }),
  https: (endpoint) => new subscriptions.UrlSubscription(endpoint, { protocol: sns.SubscriptionProtocol.HTTPS }),
};

const pascal = (id: string) => id.replace(/(^|[^a-z0-9])([a-z0-9])/gi, (_, _sep: string, c: string) => c.toUpperCase());

/**
 * The KMS-encrypted, TLS-only topic, the subscriptions and functions of the notification
 * channels (one list, core/channels), and the queue of notifications the workflow could not publish.
 */
export class Notifications extends Construct {
  readonly topic: sns.Topic;
  /** The function of each channel that has one (Slack), by channel id. */
  readonly notifiers: ReadonlyMap<string, RampartFunction>;
  /** Notifications still unpublished after Notify's retries, with the error; alarmed. */
  readonly deadLetters: sqs.Queue;
  /** Fires while a notification waits in `deadLetters`. */
  readonly failedAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', { displayName: 'Rampart', masterKey: props.key, enforceSSL: true });
    const channels = props.channels ?? CHANNELS;
    for (const channel of topicChannelsOf(channels)) this.subscribe(channel, props.policy);
    const notifiers = new Map<string, RampartFunction>();
    for (const channel of functionChannelsOf(channels)) {
      const environment = channel.environment(props.policy, { controls: DETECTORS });
      if (!environment) continue;
      const notifier = new RampartFunction(this, `${pascal(channel.id)}Notifier`, {
        entry: 'handlers/channel-notifier.ts',
        handler: 'handler',
        description: `Rampart: renders every topic message for ${channel.id} and sends it`,
        key: props.key,
        environment: {
          RAMPART_CHANNEL: channel.id,
          RAMPART_ACCOUNT: Stack.of(this).account,
          RAMPART_PARTITION: Stack.of(this).partition,
          ...environment,
        },
        // SNS invokes it asynchronously: a send the far end keeps refusing ends up here, not lost
        deadLetterQueue: props.deadLetterQueue,
      });
      for (const secretArn of channel.secretArns(props.policy)) grantSecretRead(notifier, secretArn);
      // the channel's own calls, in the guard's account and region only
      const stack = Stack.of(this);
      const fill = (pattern: string) =>
        pattern.split('${Partition}').join(stack.partition).split('${Region}').join(stack.region).split('${Account}').join(stack.account);
      for (const p of channel.permissions?.(props.policy) ?? [])
        notifier.addToRolePolicy(new iam.PolicyStatement({ actions: [...p.actions], resources: p.resources.map(fill) }));
      this.topic.addSubscription(
        new subscriptions.LambdaSubscription(notifier, {
          deadLetterQueue: props.deadLetterQueue,
          filterPolicy: { [APPROVER_ATTRIBUTE]: NOT_ADDRESSED },
        }),
      );
      notifiers.set(channel.id, notifier);
    }
    this.notifiers = notifiers;
    this.deadLetters = new sqs.Queue(this, 'FailedNotifications', {
      // SSE-SQS: the state machine sends without a KMS grant, and a disabled guard key (one cause
      // of failed publishes) does not lock the failed notifications away too
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetters).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SQS3',
      reason: 'It is itself a dead-letter queue: the workflow sends it the notifications it could not publish; nothing is redriven into it',
    });
    // its action is the topic, which may be what fails: the alarm state shows in CloudWatch regardless
    this.failedAlarm = new cloudwatch.Alarm(this, 'NotificationFailedAlarm', {
      alarmDescription:
        'Rampart: notifications could not be published; they wait in the FailedNotifications queue (the findings were recorded)',
      metric: this.deadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.failedAlarm.addAlarmAction(new actions.SnsAction(this.topic));
    // EventBridge (tamper alerts) publishes to the topic, from this account's rules; the key
    // policy allows it the data key (guard.ts), so no key grant here
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:events:${Aws.REGION}:${Aws.ACCOUNT_ID}:rule/*` },
        },
      }),
    );
  }

  /** The subscriptions a channel SNS delivers itself lists, each with its filter policy. */
  private subscribe(channel: TopicChannel, policy: Policy): void {
    for (const { endpoint, filterPolicy } of channel.subscriptions(policy)) {
      const subscription = this.topic.addSubscription(SUBSCRIPTIONS[channel.protocol](endpoint));
      // $or is not in the L2 filter type; the SNS filter policy language has it
      (subscription.node.defaultChild as sns.CfnSubscription).filterPolicy = filterPolicy;
    }
  }
}
