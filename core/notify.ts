import type { MessageAttributeValue } from '@aws-sdk/client-sns';
import type { Change } from './control';
import type { Finding } from './finding';

/**
 * The one notification renderer: plain text for SNS (email), message attributes for
 * subscription filters, Block Kit for Slack. Text taken from events (bucket names, actor ARNs,
 * reasons) is escaped wherever it could be read as markup.
 */
export const NOTIFICATION_KINDS = [
  'detected',
  'awaiting-approval',
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
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export interface ApprovalLinks {
  id: string;
  approveUrl: string;
  rejectUrl: string;
  expiresAt: string;
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
  const raw = `[Rampart] ${HEADLINES[n.kind]}: ${n.finding.control} ${n.finding.resourceArn}`;
  // eslint-disable-next-line no-control-regex
  const ascii = raw.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length <= 100 ? ascii : `${ascii.slice(0, 97)}...`;
}

function actorText(f: Finding): string {
  return f.actor?.arn ?? f.actor?.principalId ?? 'unknown';
}

/** The plain-text body (email). */
export function textOf(n: Notification): string {
  const f = n.finding;
  const lines = [
    HEADLINES[n.kind],
    '',
    `Control:  ${f.control} (severity ${severityOf(n)})`,
    `Resource: ${f.resourceArn}${f.region ? ` in ${f.region}` : ''}${f.account ? `, account ${f.account}` : ''}`,
    `Problem:  ${f.violation}`,
    `Observed: ${JSON.stringify(f.observed)}`,
    `Desired:  ${JSON.stringify(f.desired)}`,
    `Seen in:  ${f.eventName ?? 'event'} ${f.eventId}${f.eventTime ? ` at ${f.eventTime}` : ''} by ${actorText(f)}`,
  ];
  if (n.reason) lines.push(`Outcome:  ${n.reason}`);
  if (n.change) lines.push(`Change:   ${n.change.operation} in ${n.change.region}: ${JSON.stringify(n.change.input)}`);
  if (n.decidedBy) lines.push(`Decided by: ${n.decidedBy}`);
  if (n.approval) {
    lines.push('', `Approve (until ${n.approval.expiresAt}): ${n.approval.approveUrl}`, `Reject: ${n.approval.rejectUrl}`);
    lines.push(`Or: npx rampart approvals approve ${n.approval.id}`);
  }
  return lines.join('\n');
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

/** Slack mrkdwn treats &, < and > as control characters; everything from an event goes through this. */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const code = (text: string) => `\`${escapeSlack(text).replace(/`/g, "'")}\``;

/** Block Kit blocks for Slack; an approval request carries Approve/Reject buttons. */
export function slackBlocksOf(n: Notification): Array<Record<string, unknown>> {
  const f = n.finding;
  const fields = [
    `*Control*\n${code(f.control)}`,
    `*Severity*\n${escapeSlack(severityOf(n))}`,
    `*Resource*\n${code(f.resourceArn)}`,
    `*Changed by*\n${code(actorText(f))}`,
  ].map((text) => ({ type: 'mrkdwn', text }));
  const blocks: Array<Record<string, unknown>> = [
    { type: 'header', text: { type: 'plain_text', text: HEADLINES[n.kind], emoji: false } },
    { type: 'section', text: { type: 'mrkdwn', text: escapeSlack(f.violation) }, fields },
  ];
  const details = [n.reason && `*Outcome:* ${escapeSlack(n.reason)}`, n.change && `*Change:* ${code(`${n.change.operation} ${JSON.stringify(n.change.input)}`)}`, n.decidedBy && `*Decided by:* ${escapeSlack(n.decidedBy)}`]
    .filter(Boolean)
    .join('\n');
  if (details) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: details } });
  if (n.approval) {
    blocks.push({
      type: 'actions',
      block_id: 'rampart-approval',
      elements: [
        { type: 'button', action_id: 'approve', style: 'primary', text: { type: 'plain_text', text: 'Approve' }, value: n.approval.id },
        { type: 'button', action_id: 'reject', style: 'danger', text: { type: 'plain_text', text: 'Reject' }, value: n.approval.id },
      ],
    });
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `Expires ${escapeSlack(n.approval.expiresAt)}` }] });
  }
  return blocks;
}
