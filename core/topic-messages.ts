import type { MessageAttributeValue } from '@aws-sdk/client-sns';
import { EXEMPTION_NOTICE_KIND, exemptionAttributesOf, exemptionSubjectOf, isExemptionNotice } from './exemption-notice';
import type { ExemptionChange } from './exemptions';
import { attributesOf, NOTIFICATION_KINDS, subjectOf, type Notification } from './notify';

/**
 * Everything that lands on the guard's topic, as one union every notification channel renders
 * (core/channels): Rampart's own notifications and exemption notices (published by the
 * guard), CloudWatch alarm state changes (the guard's alarms), tamper alerts (EventBridge
 * events of CloudTrail calls against the guard, whole or as text) and anything else as text. A
 * message of an unknown shape is text, never an error: a throw would send every such message
 * to a dead-letter queue and no person would see it.
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
  | { kind: 'exemption'; exemption: ExemptionChange }
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
    if (
      typeof value.kind === 'string' &&
      (NOTIFICATION_KINDS as readonly string[]).includes(value.kind) &&
      isObject(value.finding) &&
      typeof value.finding.resourceArn === 'string'
    ) {
      return { kind: 'notification', notification: value as unknown as Notification };
    }
    if (isExemptionNotice(value)) return { kind: 'exemption', exemption: value.exemption };
    if (typeof value.AlarmName === 'string' && typeof value.NewStateValue === 'string')
      return { kind: 'alarm', alarm: value as unknown as AlarmMessage };
    if (isObject(value.detail) && typeof value.detail.eventName === 'string' && typeof value['detail-type'] === 'string') {
      return { kind: 'tamper', event: value as unknown as CloudTrailEventMessage };
    }
  }
  return { kind: 'text', text: message, ...(subject ? { subject } : {}) };
}

/**
 * How the tamper rule's message to the topic begins (infra/constructs/guard-alarms.ts): one line
 * of text for the channels SNS delivers (email). The channels with a function get the whole
 * event from the rule directly, and skip this line when it reaches them through the topic.
 */
export const TAMPER_ALERT_PREFIX = '[Rampart] HIGH: guard tampering: ';

/** True for the tamper rule's own line of text on the topic. */
export const isTamperAlertLine = (message: TopicMessage) => message.kind === 'text' && message.text.startsWith(TAMPER_ALERT_PREFIX);

/** What the guard itself publishes on the topic (alarms and tamper alerts come from AWS). */
export type PublishedMessage = Extract<TopicMessage, { kind: 'notification' | 'exemption' }>;

/**
 * The message attribute that addresses a message to one approver. Each approver's email
 * subscription takes only messages carrying its own address; every other subscription only
 * messages without one (infra/constructs/notifications.ts), so a personal link reaches no one else.
 */
export const APPROVER_ATTRIBUTE = 'approver';

/** The SNS subject of a published message (what email shows as the subject). */
export function topicSubjectOf(message: PublishedMessage): string {
  return message.kind === 'notification' ? subjectOf(message.notification) : exemptionSubjectOf(message.exemption);
}

/** Its message attributes, for subscription filter policies. */
export function topicAttributesOf(message: PublishedMessage): Record<string, MessageAttributeValue> {
  return message.kind === 'notification' ? attributesOf(message.notification) : exemptionAttributesOf(message.exemption);
}

/** What Lambda subscribers receive (the `lambda` body): `classifyTopicMessage` reads it back. */
export function topicPayloadOf(message: PublishedMessage): string {
  return JSON.stringify(
    message.kind === 'notification' ? message.notification : { kind: EXEMPTION_NOTICE_KIND, exemption: message.exemption },
  );
}

/** Text cut to `max` characters (Block Kit: header text at most 150, section text at most 3,000). */
export const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

// where CloudTrail names the resource of the calls the tamper rules watch
const RESOURCE_KEYS = [
  'functionName',
  'rule',
  'name',
  'ruleName',
  'roleName',
  'policyArn',
  'stateMachineArn',
  'executionArn',
  'keyId',
  'topicArn',
  'subscriptionArn',
  'secretId',
  'alarmNames',
  'trailName',
  'scheduleName',
  'uUID',
  'bucketName',
];

/** Who made a CloudTrail call, as the event names them. */
export function callerOf(e: CloudTrailEventMessage): string {
  const who = e.detail.userIdentity;
  return who?.arn ?? who?.principalId ?? who?.invokedBy ?? 'unknown';
}

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
