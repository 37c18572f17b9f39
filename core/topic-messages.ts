import { forSlack, forSlackCode, forTextLine } from './neutralise';
import { mrkdwn, NOTIFICATION_KINDS, slackBlocksOf, subjectOf, type Notification } from './notify';

/**
 * Everything that lands on the guard's topic, rendered for Slack: Rampart's own notifications,
 * CloudWatch alarm state changes (the guard's alarms), tamper alerts (EventBridge events of
 * CloudTrail calls against the guard, whole or as text) and anything else as plain text. A
 * message of an unknown shape is posted as it came, never thrown: a throw would send every such
 * message to the dead-letter queue and no person would see it.
 */

/** A CloudWatch alarm's SNS message (the fields read here; CloudWatch sends more). */
export interface AlarmMessage {
  AlarmName: string;
  AlarmDescription?: string | null;
  AWSAccountId?: string;
  NewStateValue: string;
  NewStateReason?: string;
  OldStateValue?: string;
  StateChangeTime?: string;
  Region?: string;
  AlarmArn?: string;
}

/** An EventBridge event of a CloudTrail call (`detail-type: AWS API Call via CloudTrail`). */
export interface CloudTrailEventMessage {
  'detail-type': string;
  account?: string;
  region?: string;
  time?: string;
  detail: {
    eventName: string;
    eventSource?: string;
    eventTime?: string;
    awsRegion?: string;
    sourceIPAddress?: string;
    errorCode?: string;
    userIdentity?: { type?: string; arn?: string; principalId?: string; invokedBy?: string };
    requestParameters?: Record<string, unknown> | null;
  };
}

export type TopicMessage =
  | { kind: 'notification'; notification: Notification }
  | { kind: 'alarm'; alarm: AlarmMessage }
  | { kind: 'tamper'; event: CloudTrailEventMessage }
  | { kind: 'text'; text: string; subject?: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What a topic message is, by its shape. */
export function classifyTopicMessage(message: string, subject?: string | null): TopicMessage {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return { kind: 'text', text: message, ...(subject ? { subject } : {}) };
  }
  if (isObject(value)) {
    if (typeof value.kind === 'string' && (NOTIFICATION_KINDS as readonly string[]).includes(value.kind) && isObject(value.finding) && typeof value.finding.resourceArn === 'string') {
      return { kind: 'notification', notification: value as unknown as Notification };
    }
    if (typeof value.AlarmName === 'string' && typeof value.NewStateValue === 'string') return { kind: 'alarm', alarm: value as unknown as AlarmMessage };
    if (isObject(value.detail) && typeof value.detail.eventName === 'string' && typeof value['detail-type'] === 'string') {
      return { kind: 'tamper', event: value as unknown as CloudTrailEventMessage };
    }
  }
  return { kind: 'text', text: message, ...(subject ? { subject } : {}) };
}

// Block Kit: header text at most 150 characters, section text at most 3,000
const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);
const header = (text: string) => ({ type: 'header', text: { type: 'plain_text', text: clip(forTextLine(text) || 'Rampart', 150), emoji: false } });

// where CloudTrail names the resource of the calls the tamper rules watch
const RESOURCE_KEYS = ['functionName', 'rule', 'name', 'ruleName', 'roleName', 'policyArn', 'stateMachineArn', 'executionArn', 'keyId', 'topicArn', 'subscriptionArn', 'secretId', 'alarmNames', 'trailName', 'scheduleName', 'uUID', 'bucketName'];

/** The resource a CloudTrail call acted on, as its request parameters name it. */
export function resourceOfCall(parameters: Record<string, unknown> | null | undefined): string {
  if (!parameters) return 'unknown resource';
  for (const key of RESOURCE_KEYS) {
    const value = parameters[key];
    if (typeof value === 'string' && value !== '') return value;
    if (Array.isArray(value) && value.length > 0) return value.map(String).join(', ');
  }
  return clip(JSON.stringify(parameters), 300);
}

/** Block Kit (and the notification text) for one topic message. */
export function slackMessageOf(message: TopicMessage, options: { buttons?: boolean } = {}): { text: string; blocks?: Array<Record<string, unknown>> } {
  switch (message.kind) {
    case 'notification':
      return { text: forSlack(subjectOf(message.notification)), blocks: slackBlocksOf(message.notification, options) };
    case 'alarm': {
      const a = message.alarm;
      const headline = `Alarm ${a.NewStateValue}: ${a.AlarmName}`;
      const fields = [
        `*State*\n${forSlack(`${a.OldStateValue ?? '?'} → ${a.NewStateValue}`)}`,
        `*When*\n${forSlack(a.StateChangeTime ?? 'unknown')}`,
        `*Account*\n${forSlackCode(a.AWSAccountId ?? 'unknown')}`,
        `*Region*\n${forSlack(a.Region ?? 'unknown')}`,
      ].map(mrkdwn);
      const blocks: Array<Record<string, unknown>> = [
        header(headline),
        { type: 'section', text: mrkdwn(clip(forSlack(a.NewStateReason ?? 'no reason given'), 3000)), fields },
      ];
      if (a.AlarmDescription) blocks.push({ type: 'context', elements: [mrkdwn(clip(forSlack(a.AlarmDescription), 3000))] });
      return { text: forSlack(`[Rampart] ${headline}`), blocks };
    }
    case 'tamper': {
      const e = message.event;
      const d = e.detail;
      const actor = d.userIdentity?.arn ?? d.userIdentity?.principalId ?? d.userIdentity?.invokedBy ?? 'unknown';
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
        { type: 'section', text: mrkdwn(`Someone changed Rampart itself${d.sourceIPAddress ? ` from ${forSlackCode(d.sourceIPAddress)}` : ''}: check that it was meant.`), fields },
      ];
      return { text: forSlack(`[Rampart] HIGH: ${headline} by ${actor} on ${resource}`), blocks };
    }
    case 'text': {
      const body = clip(forSlack(message.text), 3000) || '(empty message)';
      const blocks: Array<Record<string, unknown>> = [];
      if (message.subject) blocks.push(header(message.subject));
      blocks.push({ type: 'section', text: mrkdwn(body) });
      return { text: clip(forSlack(message.subject ?? message.text), 3000), blocks };
    }
  }
}
