import { describeChange } from '../control';
import type { ExemptionChange } from '../exemptions';
import { exemptionHeadlineOf } from '../exemption-notice';
import { forSlack, forSlackCode, forTextLine } from '../neutralise';
import { actorOf, headlineOf, severityOf, subjectOf, type Notification } from '../notify';
import { callerOf, clip, resourceOfCall, type AlarmMessage, type CloudTrailEventMessage, type TopicMessage } from '../topic-messages';
import type { ChannelPolicy, FunctionChannel } from './channel';

/**
 * Slack through an incoming webhook (its URL kept in Secrets Manager): Block Kit, event text
 * escaped by `forSlack` (or shown as code by `forSlackCode`) so it can neither ping, link nor
 * break a line; an approval request carries Approve/Reject buttons only when the approval API
 * verifies Slack's signature (a signing secret is configured).
 */

export type Block = Record<string, unknown>;
export interface SlackMessage {
  text: string;
  blocks?: Block[];
}

export interface SlackSettings {
  webhookSecretArn: string;
  /** Approve/Reject buttons: only when the approval API has Slack's signing secret. */
  buttons: boolean;
}

/** Slack mrkdwn treats &, < and > as control characters; everything from an event goes through this. */
export const escapeSlack = forSlack;

/** A mrkdwn text object; `verbatim` stops Slack from autolinking URLs and names on its own. */
export const mrkdwn = (text: string) => ({ type: 'mrkdwn', text, verbatim: true });

// Block Kit: header text at most 150 characters, section text at most 3,000
const header = (text: string) => ({
  type: 'header',
  text: { type: 'plain_text', text: clip(forTextLine(text) || 'Rampart', 150), emoji: false },
});

export interface SlackRenderOptions {
  /** Approve/Reject buttons: only when the approval API verifies Slack's signature (a signing secret is configured). */
  buttons?: boolean;
  /** The approval is over: this line (who decided, when) replaces the buttons. */
  decision?: string;
}

/** Block Kit blocks of a notification; an approval request carries Approve/Reject buttons when they are enabled. */
export function slackBlocksOf(n: Notification, options: SlackRenderOptions = {}): Block[] {
  const f = n.finding;
  const fields = [
    `*Control*\n${forSlackCode(f.control)}`,
    `*Severity*\n${forSlack(severityOf(n))}`,
    `*Resource*\n${forSlackCode(f.resourceArn)}`,
    `*Changed by*\n${forSlackCode(actorOf(f))}`,
  ].map(mrkdwn);
  const blocks: Block[] = [
    { type: 'header', text: { type: 'plain_text', text: headlineOf(n), emoji: false } },
    { type: 'section', text: mrkdwn(forSlack(f.violation)), fields },
  ];
  const details = [
    n.reason && `*Outcome:* ${forSlack(n.reason)}`,
    n.change && `*Change:* ${forSlackCode(describeChange(n.change))}`,
    n.decidedBy && `*Decided by:* ${forSlack(n.decidedBy)}`,
  ]
    .filter(Boolean)
    .join('\n');
  if (details) blocks.push({ type: 'section', text: mrkdwn(details) });
  if (options.decision) {
    // the approval is over: its buttons go, who decided and when takes their place
    blocks.push({ type: 'context', elements: [mrkdwn(options.decision)] });
  } else if (n.approval && !options.buttons) {
    blocks.push({
      type: 'context',
      elements: [
        mrkdwn(
          `Approvers decide with their emailed link or \`rampart approvals approve ${forSlack(n.approval.id)}\`; expires ${forSlack(n.approval.expiresAt)}`,
        ),
      ],
    });
  } else if (n.approval) {
    blocks.push({
      type: 'actions',
      block_id: 'rampart-approval',
      elements: [
        {
          type: 'button',
          action_id: 'approve',
          style: 'primary',
          text: { type: 'plain_text', text: 'Approve' },
          value: n.approval.id,
          confirm: approveConfirmation(n),
        },
        { type: 'button', action_id: 'reject', style: 'danger', text: { type: 'plain_text', text: 'Reject' }, value: n.approval.id },
      ],
    });
    blocks.push({ type: 'context', elements: [mrkdwn(`Expires ${forSlack(n.approval.expiresAt)}`)] });
  }
  return blocks;
}

/**
 * Slack's confirmation dialog on Approve (https://docs.slack.dev/reference/block-kit/composition-objects/confirmation-dialog-object):
 * a second look at what is about to change before a stray tap applies it. Plain text, within
 * the object's limits (title 100, text 300, buttons 30 characters).
 */
function approveConfirmation(n: Notification): Block {
  const f = n.finding;
  const call = n.change ? `${n.change.operation} on ` : '';
  const body = `${call}${f.resourceArn} (${f.control}, account ${f.account || 'unknown'}, ${f.region ?? n.change?.region ?? '?'}). The guard re-reads the resource and applies the planned call only if it still fits.`;
  return {
    title: { type: 'plain_text', text: 'Approve this fix?' },
    text: { type: 'plain_text', text: clip(forTextLine(body), 300) },
    confirm: { type: 'plain_text', text: 'Approve and apply' },
    deny: { type: 'plain_text', text: 'Cancel' },
  };
}

/** Block Kit of an exemption change; everything from the event is shown as code. */
export function exemptionSlackBlocksOf(c: ExemptionChange): Block[] {
  const tag = c.tagValue !== undefined ? `${c.tagKey}=${c.tagValue}` : c.tagKey;
  const actor = actorOf(c);
  const fields = [
    `*Resource*\n${forSlackCode(c.resourceArn)}`,
    `*Tag*\n${forSlackCode(tag)}`,
    `*By*\n${forSlackCode(actor)}`,
    `*Expiry*\n${forSlackCode(c.expiry ?? 'none set')}`,
  ];
  return [
    header(exemptionHeadlineOf(c)),
    { type: 'section', text: mrkdwn(forSlack(c.effect)), fields: fields.map(mrkdwn) },
    { type: 'context', elements: [mrkdwn(forSlack(`${c.eventName} ${c.eventId}${c.eventTime ? ` at ${c.eventTime}` : ''}`))] },
  ];
}

function alarmMessageOf(a: AlarmMessage): SlackMessage {
  const headline = `Alarm ${a.NewStateValue}: ${a.AlarmName}`;
  const fields = [
    `*State*\n${forSlack(`${a.OldStateValue ?? '?'} → ${a.NewStateValue}`)}`,
    `*When*\n${forSlack(a.StateChangeTime ?? 'unknown')}`,
    `*Account*\n${forSlackCode(a.AWSAccountId ?? 'unknown')}`,
    `*Region*\n${forSlack(a.Region ?? 'unknown')}`,
  ].map(mrkdwn);
  const blocks: Block[] = [
    header(headline),
    { type: 'section', text: mrkdwn(clip(forSlack(a.NewStateReason ?? 'no reason given'), 3000)), fields },
  ];
  if (a.AlarmDescription) blocks.push({ type: 'context', elements: [mrkdwn(clip(forSlack(a.AlarmDescription), 3000))] });
  return { text: forSlack(`[Rampart] ${headline}`), blocks };
}

function tamperMessageOf(e: CloudTrailEventMessage): SlackMessage {
  const d = e.detail;
  const actor = callerOf(e);
  const resource = resourceOfCall(d.requestParameters);
  const headline = `Guard tampering: ${d.eventName}${d.errorCode ? ` (failed: ${d.errorCode})` : ''}`;
  const fields = [
    `*Who*\n${forSlackCode(actor)}`,
    `*Did*\n${forSlackCode(`${d.eventSource ?? ''} ${d.eventName}`.trim())}`,
    `*To*\n${forSlackCode(resource)}`,
    `*When, where*\n${forSlack(`${d.eventTime ?? e.time ?? 'unknown'}, ${d.awsRegion ?? e.region ?? '?'}, account ${e.account ?? '?'}`)}`,
  ].map(mrkdwn);
  const blocks = [
    header(headline),
    {
      type: 'section',
      text: mrkdwn(
        `Someone changed Rampart itself${d.sourceIPAddress ? ` from ${forSlackCode(d.sourceIPAddress)}` : ''}: check that it was meant.`,
      ),
      fields,
    },
  ];
  return { text: forSlack(`[Rampart] HIGH: ${headline} by ${actor} on ${resource}`), blocks };
}

/** Block Kit (and the notification text) of any topic message. */
export function slackMessageOf(message: TopicMessage, options: SlackRenderOptions = {}): SlackMessage {
  switch (message.kind) {
    case 'notification':
      return { text: forSlack(subjectOf(message.notification)), blocks: slackBlocksOf(message.notification, options) };
    case 'exemption':
      return {
        text: forSlack(`[Rampart] ${exemptionHeadlineOf(message.exemption)}: ${message.exemption.resourceArn}`),
        blocks: exemptionSlackBlocksOf(message.exemption),
      };
    case 'alarm':
      return alarmMessageOf(message.alarm);
    case 'tamper':
      return tamperMessageOf(message.event);
    case 'text': {
      const body = clip(forSlack(message.text), 3000) || '(empty message)';
      const blocks: Block[] = [];
      if (message.subject) blocks.push(header(message.subject));
      blocks.push({ type: 'section', text: mrkdwn(body) });
      return { text: clip(forSlack(message.subject ?? message.text), 3000), blocks };
    }
  }
}

export const slackChannel: FunctionChannel<SlackSettings, SlackMessage> = {
  id: 'slack',
  describe: 'Slack: Block Kit posted to an incoming webhook (notifications.slack); Approve/Reject buttons with a signing secret',
  delivery: 'function',
  environment(policy: ChannelPolicy) {
    const slack = policy.notifications.slack;
    return (
      slack && {
        RAMPART_SLACK_WEBHOOK_SECRET_ARN: slack.webhookSecretArn,
        RAMPART_SLACK_BUTTONS: String(slack.signingSecretArn !== undefined),
      }
    );
  },
  secretArns: (policy) => (policy.notifications.slack ? [policy.notifications.slack.webhookSecretArn] : []),
  settingsFromEnv(env) {
    const webhookSecretArn = env.RAMPART_SLACK_WEBHOOK_SECRET_ARN;
    if (!webhookSecretArn) throw new Error('environment variable RAMPART_SLACK_WEBHOOK_SECRET_ARN is not set');
    return { webhookSecretArn, buttons: env.RAMPART_SLACK_BUTTONS === 'true' };
  },
  render: (message, settings) => slackMessageOf(message, { buttons: settings.buttons }),
  async deliver(rendered, settings, io) {
    const webhook = await io.secrets.get(settings.webhookSecretArn);
    const response = await io.post(webhook, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(rendered),
    });
    if (!response.ok) throw new Error(`Slack webhook answered ${response.status}`);
  },
};
