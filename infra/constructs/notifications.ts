import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { grantSecretRead } from '../grants';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
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

/** The KMS-encrypted, TLS-only topic, its email subscriptions, and the Slack notifier. */
export class Notifications extends Construct {
  readonly topic: sns.Topic;
  readonly slackNotifier?: RampartFunction;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', { displayName: 'Rampart', masterKey: props.key, enforceSSL: true });
    this.subscribeEmails(props.policy);
    const slack = props.policy.notifications.slack;
    if (slack) {
      this.slackNotifier = new RampartFunction(this, 'SlackNotifier', {
        entry: 'remediators/handlers/slack-notifier.ts',
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
    // EventBridge (tamper alerts) publishes to the topic
    this.topic.grantPublish(new iam.ServicePrincipal('events.amazonaws.com'));
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
