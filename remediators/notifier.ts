import type { SNSClient } from '@aws-sdk/client-sns';
import type { Decision } from '../core/approval-links';
import type { NotificationChannel, TopicChannel } from '../core/channels/channel';
import { TOPIC_CHANNELS } from '../core/channels/topic-channels';
import { plainTextOf } from '../core/channels/email';
import type { ExemptionChange } from '../core/exemptions';
import type { Notification } from '../core/notify';
import { sdk } from '../core/sdk';
import { APPROVER_ATTRIBUTE, topicAttributesOf, topicPayloadOf, topicSubjectOf, type PublishedMessage } from '../core/topic-messages';

/**
 * The one publisher of what the guard says on its topic (notifications, exemption notices).
 * One publish per message: each channel SNS delivers itself (email) gets its own rendering
 * under its protocol's key, the functions of the other channels (Slack) the message itself as
 * JSON (`lambda`), and every subscription filters on the attributes.
 */
export async function publishToTopic(
  sns: SNSClient,
  topicArn: string,
  message: PublishedMessage,
  options: { addressedTo?: string; channels?: readonly NotificationChannel[] } = {},
): Promise<void> {
  const bodies: Record<string, string> = { default: plainTextOf(message) };
  // the topic channels alone: a function channel's module never rides in a publisher's bundle
  const topicChannels = options.channels ? options.channels.filter((c): c is TopicChannel => c.delivery === 'topic') : TOPIC_CHANNELS;
  for (const channel of topicChannels) bodies[channel.protocol] = channel.render(message);
  // a message addressed to one approver goes to their inbox only: no `lambda` body (and the
  // function subscriptions' filter keeps it out as well)
  if (options.addressedTo === undefined) bodies.lambda = topicPayloadOf(message);
  await sns.send(
    new sdk.sns.PublishCommand({
      TopicArn: topicArn,
      Subject: topicSubjectOf(message),
      MessageStructure: 'json',
      Message: JSON.stringify(bodies),
      MessageAttributes: {
        ...topicAttributesOf(message),
        ...(options.addressedTo !== undefined ? { [APPROVER_ATTRIBUTE]: { DataType: 'String', StringValue: options.addressedTo } } : {}),
      },
    }),
  );
}

/** Publishes a notification on the topic. */
export async function publishNotification(
  sns: SNSClient,
  topicArn: string,
  notification: Notification,
  channels?: readonly NotificationChannel[],
): Promise<void> {
  await publishToTopic(sns, topicArn, { kind: 'notification', notification }, { channels });
}

/** One message per listed approver, addressed to that approver and carrying their own signed links. */
export async function publishApprovalLinks(
  sns: SNSClient,
  topicArn: string,
  notification: Notification,
  approvers: readonly string[],
  linkOf: (approver: string, decision: Decision) => string,
  channels?: readonly NotificationChannel[],
): Promise<void> {
  for (const approver of approvers) {
    const personal: Notification = {
      ...notification,
      approval: { ...notification.approval!, approver, approveUrl: linkOf(approver, 'approve'), rejectUrl: linkOf(approver, 'reject') },
    };
    await publishToTopic(sns, topicArn, { kind: 'notification', notification: personal }, { addressedTo: approver, channels });
  }
}

/** Publishes an exemption change (who exempted what) on the topic, like every other message. */
export async function publishExemptionChange(
  sns: SNSClient,
  topicArn: string,
  exemption: ExemptionChange,
  channels?: readonly NotificationChannel[],
): Promise<void> {
  await publishToTopic(sns, topicArn, { kind: 'exemption', exemption }, { channels });
}
