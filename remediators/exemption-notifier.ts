import type { SNSClient } from '@aws-sdk/client-sns';
import { EXEMPTION_NOTICE_KIND, exemptionAttributesOf, exemptionSubjectOf, exemptionTextOf, type ExemptionNotice } from '../core/exemption-notice';
import type { ExemptionChange } from '../core/exemptions';
import { sdk } from '../core/sdk';

/** Publishes an exemption change on the topic, the same way as every other notification. */
export async function publishExemptionChange(sns: SNSClient, topicArn: string, change: ExemptionChange): Promise<void> {
  const text = exemptionTextOf(change);
  const notice: ExemptionNotice = { kind: EXEMPTION_NOTICE_KIND, exemption: change };
  await sns.send(
    new sdk.sns.PublishCommand({
      TopicArn: topicArn,
      Subject: exemptionSubjectOf(change),
      MessageStructure: 'json',
      Message: JSON.stringify({ default: text, email: text, lambda: JSON.stringify(notice) }),
      MessageAttributes: exemptionAttributesOf(change),
    }),
  );
}
