import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { grantSecretRead } from '../grants';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { Policy } from '../../core/policy';
import { RampartFunction } from './functions';

export interface NotificationsProps {
  policy: Policy;
  key: kms.IKey;
  deadLetterQueue: sqs.IQueue;
}

/** The KMS-encrypted, TLS-only topic, its email subscriptions, and the Slack notifier. */
export class Notifications extends Construct {
  readonly topic: sns.Topic;
  readonly slackNotifier?: RampartFunction;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', { displayName: 'Rampart', masterKey: props.key, enforceSSL: true });
    for (const email of props.policy.notifications.emails) this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    const slack = props.policy.notifications.slack;
    if (slack) {
      this.slackNotifier = new RampartFunction(this, 'SlackNotifier', {
        entry: 'remediators/handlers/slack-notifier.ts',
        handler: 'handler',
        description: 'Rampart: renders notifications as Slack Block Kit and posts them to the webhook',
        key: props.key,
        environment: { RAMPART_SLACK_WEBHOOK_SECRET_ARN: slack.webhookSecretArn },
        // SNS invokes it asynchronously: a post Slack keeps refusing ends up here, not lost
        deadLetterQueue: props.deadLetterQueue,
      });
      grantSecretRead(this.slackNotifier, slack.webhookSecretArn);
      this.topic.addSubscription(new subscriptions.LambdaSubscription(this.slackNotifier, { deadLetterQueue: props.deadLetterQueue }));
    }
    // EventBridge (tamper alerts) publishes to the topic
    this.topic.grantPublish(new iam.ServicePrincipal('events.amazonaws.com'));
  }
}
