import type { SNSClient } from '@aws-sdk/client-sns';
import { sdk } from '../core/sdk';
import { attributesOf, subjectOf, textOf, type Notification } from '../core/notify';

/**
 * Publishes a notification on the topic: text for email and the default, the notification
 * itself as JSON for Lambda subscribers (the Slack notifier), attributes for filter policies.
 */
export async function publishNotification(sns: SNSClient, topicArn: string, notification: Notification): Promise<void> {
  const text = textOf(notification);
  await sns.send(
    new sdk.sns.PublishCommand({
      TopicArn: topicArn,
      Subject: subjectOf(notification),
      MessageStructure: 'json',
      Message: JSON.stringify({ default: text, email: text, lambda: JSON.stringify(notification) }),
      MessageAttributes: attributesOf(notification),
    }),
  );
}
