import { followUpsText } from '../control';
import type { ExemptionChange } from '../exemptions';
import { exemptionHeadlineOf } from '../exemption-notice';
import { forTerminal, forTextLine } from '../neutralise';
import { actorOf, headlineOf, severityOf, type Notification } from '../notify';
import {
  APPROVER_ATTRIBUTE,
  callerOf,
  resourceOfCall,
  type AlarmMessage,
  type CloudTrailEventMessage,
  type TopicMessage,
} from '../topic-messages';
import type { ChannelPolicy, TopicChannel, TopicSubscription } from './channel';

/**
 * Email through the topic's email subscriptions: plain text, one line per field, event text
 * never breaking a line (`forTextLine`), so no event can forge an "Approve:" line.
 */

const t = forTextLine;

/** The plain-text body of a notification. */
export function textOf(n: Notification): string {
  const f = n.finding;
  const lines = [
    headlineOf(n),
    '',
    `Control:  ${f.control} (severity ${severityOf(n)})`,
    `Resource: ${t(f.resourceArn)}${f.region ? ` in ${t(f.region)}` : ''}${f.account ? `, account ${t(f.account)}` : ''}`,
    `Problem:  ${t(f.violation)}`,
    `Observed: ${t(JSON.stringify(f.observed))}`,
    `Desired:  ${t(JSON.stringify(f.desired))}`,
    `Seen in:  ${t(f.eventName ?? 'event')} ${t(f.eventId)}${f.eventTime ? ` at ${t(f.eventTime)}` : ''} by ${t(actorOf(f))}`,
  ];
  if (n.reason) lines.push(`Outcome:  ${t(n.reason)}`);
  if (n.change)
    lines.push(`Change:   ${n.change.operation} in ${n.change.region}: ${t(JSON.stringify(n.change.input) + followUpsText(n.change))}`);
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

/** The plain-text body of an exemption change. */
export function exemptionTextOf(c: ExemptionChange): string {
  const tag = c.tagValue !== undefined ? `${c.tagKey}=${c.tagValue}` : c.tagKey;
  return [
    exemptionHeadlineOf(c),
    '',
    `Resource: ${t(c.resourceArn)}`,
    `Tag:      ${t(tag)}`,
    ...(c.expiry !== undefined ? [`Expiry:   ${t(c.expiry)}`] : []),
    `Effect:   ${t(c.effect)}`,
    `By:       ${t(actorOf(c))}`,
    `Seen in:  ${t(c.eventName)} ${t(c.eventId)}${c.eventTime ? ` at ${t(c.eventTime)}` : ''}`,
  ].join('\n');
}

function alarmTextOf(a: AlarmMessage): string {
  return [
    `Alarm ${t(a.NewStateValue)}: ${t(a.AlarmName)}`,
    '',
    `State:    ${t(a.OldStateValue ?? '?')} -> ${t(a.NewStateValue)}${a.StateChangeTime ? ` at ${t(a.StateChangeTime)}` : ''}`,
    `Reason:   ${t(a.NewStateReason ?? 'no reason given')}`,
    `Account:  ${t(a.AWSAccountId ?? 'unknown')}, ${t(a.Region ?? 'unknown region')}`,
    ...(a.AlarmDescription ? [`About:    ${t(a.AlarmDescription)}`] : []),
  ].join('\n');
}

function tamperTextOf(e: CloudTrailEventMessage): string {
  const d = e.detail;
  const actor = callerOf(e);
  return [
    `Guard tampering: ${t(d.eventName)}${d.errorCode ? ` (failed: ${t(d.errorCode)})` : ''}`,
    '',
    `Who:      ${t(actor)}${d.sourceIPAddress ? ` from ${t(d.sourceIPAddress)}` : ''}`,
    `Did:      ${t(`${d.eventSource ?? ''} ${d.eventName}`.trim())}`,
    `To:       ${t(resourceOfCall(d.requestParameters))}`,
    `When:     ${t(d.eventTime ?? e.time ?? 'unknown')}, ${t(d.awsRegion ?? e.region ?? '?')}, account ${t(e.account ?? '?')}`,
    '',
    'Someone changed Rampart itself: check that it was meant.',
  ].join('\n');
}

/** Any topic message as plain text: also the publish's `default`, for protocols without a body of their own. */
export function plainTextOf(message: TopicMessage): string {
  switch (message.kind) {
    case 'notification':
      return textOf(message.notification);
    case 'exemption':
      return exemptionTextOf(message.exemption);
    case 'alarm':
      return alarmTextOf(message.alarm);
    case 'tamper':
      return tamperTextOf(message.event);
    case 'text':
      // its own line breaks are kept; control characters and escapes are not
      return forTerminal(message.subject ? `${message.subject}\n\n${message.text}` : message.text);
  }
}

/**
 * Notification addresses get every message but those addressed to an approver; approver
 * addresses get their own personal links (and everything else too when they are also
 * notification addresses): a signed link reaches only the person it is signed for.
 */
export function emailSubscriptions(policy: ChannelPolicy): TopicSubscription[] {
  const notified = policy.notifications.emails;
  const approvers = policy.approvals.approvers.emails;
  return [...new Set([...notified, ...approvers])].map((email) => {
    const personal = { [APPROVER_ATTRIBUTE]: [email] };
    const others = { [APPROVER_ATTRIBUTE]: [{ exists: false }] };
    return {
      endpoint: email,
      filterPolicy: !approvers.includes(email) ? others : notified.includes(email) ? { $or: [personal, others] } : personal,
    };
  });
}

export const emailChannel: TopicChannel = {
  id: 'email',
  describe: "Email: plain text through the topic's email subscriptions (notifications.emails); approvers get their personal links",
  delivery: 'topic',
  protocol: 'email',
  render: plainTextOf,
  subscriptions: emailSubscriptions,
};
