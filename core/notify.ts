import type { MessageAttributeValue } from '@aws-sdk/client-sns';
import type { Change } from './control';
import type { Finding } from './finding';
import { forSlack, forSlackCode, forSubject, forTextLine } from './neutralise';

/**
 * The one notification renderer: plain text for SNS (email), message attributes for
 * subscription filters, Block Kit for Slack. Text taken from events (bucket names, actor ARNs,
 * reasons) goes through the neutraliser of its channel (`neutralise.ts`).
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

function actorText(f: Finding): string {
  return f.actor?.arn ?? f.actor?.principalId ?? 'unknown';
}

/** The plain-text body (email): one line per field, event text never breaking a line. */
export function textOf(n: Notification): string {
  const f = n.finding;
  const t = forTextLine;
  const lines = [
    HEADLINES[n.kind],
    '',
    `Control:  ${f.control} (severity ${severityOf(n)})`,
    `Resource: ${t(f.resourceArn)}${f.region ? ` in ${t(f.region)}` : ''}${f.account ? `, account ${t(f.account)}` : ''}`,
    `Problem:  ${t(f.violation)}`,
    `Observed: ${t(JSON.stringify(f.observed))}`,
    `Desired:  ${t(JSON.stringify(f.desired))}`,
    `Seen in:  ${t(f.eventName ?? 'event')} ${t(f.eventId)}${f.eventTime ? ` at ${t(f.eventTime)}` : ''} by ${t(actorText(f))}`,
  ];
  if (n.reason) lines.push(`Outcome:  ${t(n.reason)}`);
  if (n.change) lines.push(`Change:   ${n.change.operation} in ${n.change.region}: ${t(JSON.stringify(n.change.input))}`);
  if (n.decidedBy) lines.push(`Decided by: ${t(n.decidedBy)}`);
  const a = n.approval;
  if (a?.approver && a.approveUrl && a.rejectUrl) {
    lines.push('', `Your personal links, valid until ${a.expiresAt}; the decision is recorded as ${t(a.approver)}. Do not forward them.`);
    lines.push(`Approve: ${a.approveUrl}`, `Reject:  ${a.rejectUrl}`);
  } else if (a) {
    lines.push('', `Approval ${a.id} is open until ${a.expiresAt}: each listed approver gets a personal link, or Slack buttons.`);
  }
  if (a) lines.push(`Or: npx rampart approvals approve ${a.id}`);
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
export const escapeSlack = forSlack;

/** A mrkdwn text object; `verbatim` stops Slack from autolinking URLs and names on its own. */
export const mrkdwn = (text: string) => ({ type: 'mrkdwn', text, verbatim: true });

export interface SlackRenderOptions {
  /** Approve/Reject buttons: only when the approval API verifies Slack's signature (a signing secret is configured). */
  buttons?: boolean;
  /** The approval is over: this line (who decided, when) replaces the buttons. */
  decision?: string;
}

/** Block Kit blocks for Slack; an approval request carries Approve/Reject buttons when they are enabled. */
export function slackBlocksOf(n: Notification, options: SlackRenderOptions = {}): Array<Record<string, unknown>> {
  const f = n.finding;
  const fields = [`*Control*\n${forSlackCode(f.control)}`, `*Severity*\n${forSlack(severityOf(n))}`, `*Resource*\n${forSlackCode(f.resourceArn)}`, `*Changed by*\n${forSlackCode(actorText(f))}`].map(mrkdwn);
  const blocks: Array<Record<string, unknown>> = [
    { type: 'header', text: { type: 'plain_text', text: HEADLINES[n.kind], emoji: false } },
    { type: 'section', text: mrkdwn(forSlack(f.violation)), fields },
  ];
  const details = [
    n.reason && `*Outcome:* ${forSlack(n.reason)}`,
    n.change && `*Change:* ${forSlackCode(`${n.change.operation} ${JSON.stringify(n.change.input)}`)}`,
    n.decidedBy && `*Decided by:* ${forSlack(n.decidedBy)}`,
  ]
    .filter(Boolean)
    .join('\n');
  if (details) blocks.push({ type: 'section', text: mrkdwn(details) });
  if (options.decision) {
    // the approval is over: its buttons go, who decided and when takes their place
    blocks.push({ type: 'context', elements: [mrkdwn(options.decision)] });
  } else if (n.approval && !options.buttons) {
    blocks.push({ type: 'context', elements: [mrkdwn(`Approvers decide with their emailed link or \`rampart approvals approve ${forSlack(n.approval.id)}\`; expires ${forSlack(n.approval.expiresAt)}`)] });
  } else if (n.approval) {
    blocks.push({
      type: 'actions',
      block_id: 'rampart-approval',
      elements: [
        { type: 'button', action_id: 'approve', style: 'primary', text: { type: 'plain_text', text: 'Approve' }, value: n.approval.id },
        { type: 'button', action_id: 'reject', style: 'danger', text: { type: 'plain_text', text: 'Reject' }, value: n.approval.id },
      ],
    });
    blocks.push({ type: 'context', elements: [mrkdwn(`Expires ${forSlack(n.approval.expiresAt)}`)] });
  }
  return blocks;
}
