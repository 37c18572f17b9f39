import type { MessageAttributeValue } from '@aws-sdk/client-sns';
import type { Change } from './control';
import type { Finding } from './finding';
import { forSubject } from './neutralise';

/**
 * Rampart's notifications: what happened to a finding. The SNS envelope (subject, message
 * attributes for subscription filters) is here; each channel renders the body (core/channels).
 */
/** The kinds that end a finding's workflow: recording one closes the finding with it as outcome. */
export const TERMINAL_KINDS = [
  'remediated',
  'already-compliant',
  'resource-gone',
  'exempt',
  'loop-suspected',
  'rejected',
  'expired',
  'failed',
  'dry-run',
] as const;

export const NOTIFICATION_KINDS = ['detected', 'awaiting-approval', ...TERMINAL_KINDS] as const;

export function isTerminalKind(kind: NotificationKind): boolean {
  return (TERMINAL_KINDS as readonly string[]).includes(kind);
}
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export interface ApprovalLinks {
  id: string;
  expiresAt: string;
  /** Set only on the message to one approver: personal links, decided as this address. */
  approver?: string;
  approveUrl?: string;
  rejectUrl?: string;
}

export interface Notification {
  kind: NotificationKind;
  finding: Finding;
  /** Why (an outcome's reason, a rejection's comment). */
  reason?: string;
  change?: Change | null;
  approval?: ApprovalLinks;
  decidedBy?: string;
}

const HEADLINES: Record<NotificationKind, string> = {
  detected: 'Policy violation detected',
  'awaiting-approval': 'Fix awaiting approval',
  remediated: 'Remediated',
  'already-compliant': 'Already compliant, nothing changed',
  'resource-gone': 'Resource gone, finding closed',
  exempt: 'Resource exempt, nothing changed',
  'loop-suspected': 'Fix loop suspected: human needed',
  rejected: 'Fix rejected',
  expired: 'Approval expired, nothing changed',
  failed: 'Remediation failed',
  'dry-run': 'Dry run: would fix',
};

/** Severity of a notification: a suspected fight with another automation is always high. */
export function severityOf(n: Notification): string {
  return n.kind === 'loop-suspected' || n.kind === 'failed' ? 'high' : n.finding.severity;
}

/** SNS subjects: at most 100 printable ASCII characters, no line breaks. */
export function subjectOf(n: Notification): string {
  return forSubject(`[Rampart] ${HEADLINES[n.kind]}: ${n.finding.control} ${n.finding.resourceArn}`);
}

/** The headline of a notification (its kind, in words). */
export function headlineOf(n: Notification): string {
  return HEADLINES[n.kind];
}

/** Who made the change (of a finding, an exemption), as the event names them. */
export function actorOf(f: Pick<Finding, 'actor'>): string {
  return f.actor?.arn ?? f.actor?.principalId ?? 'unknown';
}

/** Message attributes, so subscribers can filter (e.g. only `severity` = high). */
export function attributesOf(n: Notification): Record<string, MessageAttributeValue> {
  const values: Record<string, string | undefined> = {
    control: n.finding.control,
    severity: severityOf(n),
    outcome: n.kind,
    account: n.finding.account,
    region: n.finding.region,
  };
  return Object.fromEntries(
    Object.entries(values)
      .filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '')
      .map(([k, v]) => [k, { DataType: 'String', StringValue: v }]),
  );
}
