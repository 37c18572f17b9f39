import type { MessageAttributeValue } from '@aws-sdk/client-sns';
import type { ExemptionChange, ExemptionChangeKind } from './exemptions';
import { escapeSlack } from './notify';

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

/** True for the `lambda` payload of an exemption notice (what a topic subscriber receives). */
export function isExemptionNotice(value: unknown): value is ExemptionNotice {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === EXEMPTION_NOTICE_KIND && typeof (value as { exemption?: unknown }).exemption === 'object';
}

/** Block Kit for Slack; everything from the event is escaped and shown as code. */
export function exemptionSlackBlocksOf(c: ExemptionChange): Array<Record<string, unknown>> {
  const code = (text: string) => `\`${escapeSlack(oneLine(text)).replace(/`/g, "'")}\``;
  const tag = c.tagValue !== undefined ? `${c.tagKey}=${c.tagValue}` : c.tagKey;
  const fields = [`*Resource*\n${code(c.resourceArn)}`, `*Tag*\n${code(tag)}`, `*By*\n${code(actorText(c))}`, `*Expiry*\n${code(c.expiry ?? 'none set')}`];
  return [
    { type: 'header', text: { type: 'plain_text', text: HEADLINES[c.change], emoji: false } },
    { type: 'section', text: { type: 'mrkdwn', text: escapeSlack(oneLine(c.effect)) }, fields: fields.map((text) => ({ type: 'mrkdwn', text })) },
    { type: 'context', elements: [{ type: 'mrkdwn', text: escapeSlack(oneLine(`${c.eventName} ${c.eventId}${c.eventTime ? ` at ${c.eventTime}` : ''}`)) }] },
  ];
}
