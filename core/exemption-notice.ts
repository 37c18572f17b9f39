import type { MessageAttributeValue } from '@aws-sdk/client-sns';
import type { ExemptionChange, ExemptionChangeKind } from './exemptions';

/**
 * The notice of an exemption change (who exempted what), published on the guard's topic by
 * the detector function that saw the tag change: plain text for email, the change itself as
 * JSON for Lambda subscribers, attributes for subscription filters (`outcome` = `exemption-changed`).
 */
export const EXEMPTION_NOTICE_KIND = 'exemption-changed';

export interface ExemptionNotice {
  kind: typeof EXEMPTION_NOTICE_KIND;
  exemption: ExemptionChange;
}

const HEADLINES: Record<ExemptionChangeKind, string> = {
  added: 'Exemption added',
  removed: 'Exemption removed',
  'expiry-set': 'Exemption expiry set',
  'expiry-removed': 'Exemption expiry removed',
};

// event text (tag values, actor ARNs) never starts a new line or carries terminal escapes
// eslint-disable-next-line no-control-regex
const oneLine = (text: string) => text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');

function actorText(c: ExemptionChange): string {
  return c.actor?.arn ?? c.actor?.principalId ?? 'unknown';
}

/** SNS subjects: at most 100 printable ASCII characters. */
export function exemptionSubjectOf(c: ExemptionChange): string {
  // eslint-disable-next-line no-control-regex
  const ascii = `[Rampart] ${HEADLINES[c.change]}: ${c.resourceArn}`.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length <= 100 ? ascii : `${ascii.slice(0, 97)}...`;
}

/** The plain-text body (email). */
export function exemptionTextOf(c: ExemptionChange): string {
  const tag = c.tagValue !== undefined ? `${c.tagKey}=${c.tagValue}` : c.tagKey;
  const lines = [
    HEADLINES[c.change],
    '',
    `Resource: ${c.resourceArn}`,
    `Tag:      ${tag}`,
    ...(c.expiry !== undefined ? [`Expiry:   ${c.expiry}`] : []),
    `Effect:   ${c.effect}`,
    `By:       ${actorText(c)}`,
    `Seen in:  ${c.eventName} ${c.eventId}${c.eventTime ? ` at ${c.eventTime}` : ''}`,
  ];
  return lines.map(oneLine).join('\n');
}

export function exemptionAttributesOf(c: ExemptionChange): Record<string, MessageAttributeValue> {
  return {
    outcome: { DataType: 'String', StringValue: EXEMPTION_NOTICE_KIND },
    change: { DataType: 'String', StringValue: c.change },
    // exempting a resource stops guarding it: as loud as a high finding
    severity: { DataType: 'String', StringValue: c.change === 'removed' ? 'medium' : 'high' },
  };
}
