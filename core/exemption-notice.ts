import type { MessageAttributeValue } from '@aws-sdk/client-sns';
import type { ExemptionChange, ExemptionChangeKind } from './exemptions';
import { forSubject } from './neutralise';

/**
 * The notice of an exemption change (who exempted what), published on the guard's topic by
 * the detector function that saw the tag change, like every other message (core/topic-messages.ts):
 * attributes for subscription filters (`outcome` = `exemption-changed`); each channel renders it.
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

/** The headline of an exemption change. */
export function exemptionHeadlineOf(c: ExemptionChange): string {
  return HEADLINES[c.change];
}

/** SNS subjects: at most 100 printable ASCII characters. */
export function exemptionSubjectOf(c: ExemptionChange): string {
  return forSubject(`[Rampart] ${HEADLINES[c.change]}: ${c.resourceArn}`);
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
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === EXEMPTION_NOTICE_KIND &&
    typeof (value as { exemption?: unknown }).exemption === 'object'
  );
}
