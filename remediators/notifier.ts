import type { SNSClient } from '@aws-sdk/client-sns';
import type { Decision } from '../core/approval-links';
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

/**
 * The message attribute that addresses a message to one approver. Each approver's email
 * subscription takes only messages carrying its own address; every other subscription only
 * messages without one (infra/constructs/notifications.ts), so a personal link reaches no one else.
 */
export const APPROVER_ATTRIBUTE = 'approver';

/** One message per listed approver, carrying that approver's own signed links. */
export async function publishApprovalLinks(
  sns: SNSClient,
  topicArn: string,
  notification: Notification,
  approvers: readonly string[],
  linkOf: (approver: string, decision: Decision) => string,
): Promise<void> {
  for (const approver of approvers) {
    const personal: Notification = { ...notification, approval: { ...notification.approval!, approver, approveUrl: linkOf(approver, 'approve'), rejectUrl: linkOf(approver, 'reject') } };
    const text = textOf(personal);
    await sns.send(
      new sdk.sns.PublishCommand({
        TopicArn: topicArn,
        Subject: subjectOf(personal),
        // email only: no `lambda` body, and the Slack notifier skips addressed messages too
        MessageStructure: 'json',
        Message: JSON.stringify({ default: text, email: text }),
        MessageAttributes: { ...attributesOf(personal), [APPROVER_ATTRIBUTE]: { DataType: 'String', StringValue: approver } },
      }),
    );
  }
}
