import { Aws, Duration, Validations } from 'aws-cdk-lib';
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
import { APPROVER_ATTRIBUTE } from '../../remediators/notifier';
import { RampartFunction } from './functions';

export interface NotificationsProps {
  policy: Policy;
  key: kms.IKey;
  deadLetterQueue: sqs.IQueue;
}

// messages addressed to one approver carry their address; alarms and tamper alerts carry no attributes at all
const NOT_ADDRESSED = new sns.SubscriptionFilter([{ exists: false }]);

/**
 * The KMS-encrypted, TLS-only topic, its email subscriptions, the Slack notifier, and the
 * queue of notifications the workflow could not publish.
 */
export class Notifications extends Construct {
  readonly topic: sns.Topic;
  readonly slackNotifier?: RampartFunction;
  /** Notifications still unpublished after Notify's retries, with the error; alarmed. */
  readonly deadLetters: sqs.Queue;
  /** Fires while a notification waits in `deadLetters`. */
  readonly failedAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', { displayName: 'Rampart', masterKey: props.key, enforceSSL: true });
    this.subscribeEmails(props.policy);
    const slack = props.policy.notifications.slack;
    if (slack) {
      this.slackNotifier = new RampartFunction(this, 'SlackNotifier', {
        entry: 'handlers/slack-notifier.ts',
        handler: 'handler',
        description: 'Rampart: renders notifications as Slack Block Kit and posts them to the webhook',
        key: props.key,
        environment: { RAMPART_SLACK_WEBHOOK_SECRET_ARN: slack.webhookSecretArn, RAMPART_SLACK_BUTTONS: String(slack.signingSecretArn !== undefined) },
        // SNS invokes it asynchronously: a post Slack keeps refusing ends up here, not lost
        deadLetterQueue: props.deadLetterQueue,
      });
      grantSecretRead(this.slackNotifier, slack.webhookSecretArn);
      this.topic.addSubscription(new subscriptions.LambdaSubscription(this.slackNotifier, { deadLetterQueue: props.deadLetterQueue, filterPolicy: { [APPROVER_ATTRIBUTE]: NOT_ADDRESSED } }));
    }
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
      alarmDescription: 'Rampart: notifications could not be published; they wait in the FailedNotifications queue (the findings were recorded)',
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

  /**
   * Notification addresses get every message but those addressed to an approver; approver
   * addresses get their own personal links (and everything else too when they are also
   * notification addresses): a signed link reaches only the person it is signed for.
   */
  private subscribeEmails(policy: Policy): void {
    const notified = policy.notifications.emails;
    const approvers = policy.approvals.approvers.emails;
    for (const email of new Set([...notified, ...approvers])) {
      const personal = { [APPROVER_ATTRIBUTE]: [email] };
      const others = { [APPROVER_ATTRIBUTE]: [{ exists: false }] };
      const filter = !approvers.includes(email) ? others : notified.includes(email) ? { $or: [personal, others] } : personal;
      const subscription = this.topic.addSubscription(new subscriptions.EmailSubscription(email));
      // $or is not in the L2 filter type; the SNS filter policy language has it
      (subscription.node.defaultChild as sns.CfnSubscription).filterPolicy = filter;
    }
  }
}
