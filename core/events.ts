import * as z from 'zod/mini';
import { MalformedEventError } from './errors';
import type { Actor } from './finding';

// zod/mini keeps the Lambda bundles small; it ships no messages, so these say what was expected
const eventErrors: z.core.$ZodErrorMap = (issue) => {
  const received = issue.input === null ? 'null' : Array.isArray(issue.input) ? 'array' : typeof issue.input;
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}, received ${received}`;
    case 'too_small':
      return `expected at least ${String(issue.minimum)} ${issue.origin === 'string' ? 'character(s)' : 'item(s)'}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_union':
      return typeof issue.note === 'string' ? issue.note : 'matches none of the expected shapes';
    default:
      return `invalid (${issue.code})`;
  }
};

/**
 * Typed envelopes of the events Rampart consumes, validated at the edge with zod. Only the
 * fields Rampart reads are checked; everything else passes through untouched.
 *
 * Shapes: "AWS API Call via CloudTrail" (CloudTrail record under `detail`), bare CloudTrail
 * records (log files, `{"Records": [...]}`), "Config Configuration Item Change" (including the
 * oversized variant that carries only a summary), "Config Rules Compliance Change".
 */

const userIdentitySchema = z.optional(
  z.looseObject({
    type: z.optional(z.string()),
    principalId: z.optional(z.string()),
    arn: z.optional(z.string()),
    accountId: z.optional(z.string()),
    userName: z.optional(z.string()),
    invokedBy: z.optional(z.string()),
    sessionContext: z.optional(z.looseObject({ sessionIssuer: z.optional(z.looseObject({ arn: z.optional(z.string()) })) })),
  }),
);

export const cloudTrailRecordSchema = z.looseObject({
  eventVersion: z.optional(z.string()),
  eventSource: z.string().check(z.minLength(1)),
  eventName: z.string().check(z.minLength(1)),
  eventTime: z.string().check(z.minLength(1)),
  awsRegion: z.string().check(z.minLength(1)),
  eventID: z.string().check(z.minLength(1)),
  userIdentity: userIdentitySchema,
  // null for calls without parameters; absent in some service records
  requestParameters: z.nullish(z.record(z.string(), z.unknown())),
  responseElements: z.optional(z.unknown()),
  errorCode: z.nullish(z.string()),
  errorMessage: z.nullish(z.string()),
  recipientAccountId: z.optional(z.string()),
});
export type CloudTrailRecord = z.infer<typeof cloudTrailRecordSchema>;

const configItemSchema = z.looseObject({
  resourceType: z.string().check(z.minLength(1)),
  resourceId: z.string().check(z.minLength(1)),
  resourceName: z.nullish(z.string()),
  ARN: z.nullish(z.string()),
  awsRegion: z.string().check(z.minLength(1)),
  awsAccountId: z.optional(z.string()),
  configurationItemStatus: z.string(),
  configurationItemCaptureTime: z.nullish(z.string()),
  configuration: z.optional(z.unknown()),
  supplementaryConfiguration: z.nullish(z.record(z.string(), z.unknown())),
  tags: z.nullish(z.record(z.string(), z.string())),
});
export type ConfigItem = z.infer<typeof configItemSchema>;

const configItemSummarySchema = z.looseObject({
  resourceType: z.string().check(z.minLength(1)),
  resourceId: z.string().check(z.minLength(1)),
  ARN: z.nullish(z.string()),
  awsRegion: z.string().check(z.minLength(1)),
  awsAccountId: z.optional(z.string()),
  configurationItemStatus: z.string(),
  configurationItemCaptureTime: z.nullish(z.string()),
});

const configChangeDetailSchema = z.discriminatedUnion('messageType', [
  z.looseObject({ messageType: z.literal('ConfigurationItemChangeNotification'), configurationItem: configItemSchema }),
  z.looseObject({
    messageType: z.literal('OversizedConfigurationItemChangeNotification'),
    configurationItemSummary: configItemSummarySchema,
  }),
]);

const complianceDetailSchema = z.looseObject({
  messageType: z.literal('ComplianceChangeNotification'),
  configRuleName: z.string(),
  resourceType: z.string(),
  resourceId: z.string(),
  awsRegion: z.string(),
  awsAccountId: z.optional(z.string()),
  newEvaluationResult: z.looseObject({ complianceType: z.string() }),
});

const envelopeSchema = z.looseObject({
  id: z.string().check(z.minLength(1)),
  'detail-type': z.string().check(z.minLength(1)),
  source: z.string().check(z.minLength(1)),
  account: z.string(),
  time: z.string(),
  region: z.string(),
  resources: z.array(z.string()),
  detail: z.record(z.string(), z.unknown()),
});

/** The EventBridge envelope fields kept beside a parsed event. */
export interface EnvelopeMeta {
  id: string;
  source: string;
  detailType: string;
  account: string;
  region: string;
  time: string;
}

/** The resource a Config notification is about, whichever of the two message types carried it. */
export interface ConfigResource {
  resourceType: string;
  resourceId: string;
  arn?: string;
  region: string;
  account?: string;
  status: string;
  captureTime?: string;
}

export type RampartEvent =
  | { kind: 'cloudtrail'; id: string; record: CloudTrailRecord; envelope?: EnvelopeMeta }
  | { kind: 'config-item'; id: string; envelope: EnvelopeMeta; resource: ConfigResource; item: ConfigItem }
  | { kind: 'config-oversized'; id: string; envelope: EnvelopeMeta; resource: ConfigResource }
  | {
      kind: 'config-compliance';
      id: string;
      envelope: EnvelopeMeta;
      resource: ConfigResource;
      ruleName: string;
      complianceType: string;
    }
  /** A well-formed EventBridge event of a type no control consumes: counted, never judged. */
  | { kind: 'other'; id: string; envelope: EnvelopeMeta };

export const CLOUDTRAIL_DETAIL_TYPE = 'AWS API Call via CloudTrail';
export const CONFIG_ITEM_DETAIL_TYPE = 'Config Configuration Item Change';
export const CONFIG_COMPLIANCE_DETAIL_TYPE = 'Config Rules Compliance Change';

function check<T>(schema: z.ZodMiniType<T>, value: unknown, prefix: string, what: string): T {
  const result = z.safeParse(schema, value, { error: eventErrors });
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
  throw new MalformedEventError(`${what}: ${field || '(top level)'}: ${issue.message}`, { field });
}

function envelopeMeta(e: z.infer<typeof envelopeSchema>): EnvelopeMeta {
  return { id: e.id, source: e.source, detailType: e['detail-type'], account: e.account, region: e.region, time: e.time };
}

/**
 * Parses one event as it arrives: an EventBridge event (from a rule target, `aws events
 * put-events`, or an NDJSON dump) or a bare CloudTrail record (from a CloudTrail log file).
 * Throws {@link MalformedEventError} naming the bad field.
 *
 * @example parseEvent(JSON.parse(text)).kind // 'cloudtrail'
 */
export function parseEvent(raw: unknown): RampartEvent {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new MalformedEventError(`expected an event object, got ${Array.isArray(raw) ? 'an array' : typeof raw}`);
  }
  const obj = raw as Record<string, unknown>;
  if (!('detail-type' in obj)) {
    if ('eventSource' in obj || 'eventName' in obj) {
      const record = check(cloudTrailRecordSchema, obj, '', 'CloudTrail record');
      return { kind: 'cloudtrail', id: record.eventID, record };
    }
    throw new MalformedEventError('not an EventBridge event (no "detail-type") nor a CloudTrail record (no "eventSource"/"eventName")');
  }
  const envelope = check(envelopeSchema, obj, '', 'EventBridge event');
  const meta = envelopeMeta(envelope);
  switch (envelope['detail-type']) {
    case CLOUDTRAIL_DETAIL_TYPE: {
      const record = check(cloudTrailRecordSchema, envelope.detail, 'detail', 'CloudTrail event');
      return { kind: 'cloudtrail', id: record.eventID, record, envelope: meta };
    }
    case CONFIG_ITEM_DETAIL_TYPE: {
      const detail = check(configChangeDetailSchema, envelope.detail, 'detail', 'Config event');
      if (detail.messageType === 'ConfigurationItemChangeNotification') {
        const item = detail.configurationItem;
        return { kind: 'config-item', id: meta.id, envelope: meta, resource: configResource(item), item };
      }
      return { kind: 'config-oversized', id: meta.id, envelope: meta, resource: configResource(detail.configurationItemSummary) };
    }
    case CONFIG_COMPLIANCE_DETAIL_TYPE: {
      const detail = check(complianceDetailSchema, envelope.detail, 'detail', 'Config rule event');
      return {
        kind: 'config-compliance',
        id: meta.id,
        envelope: meta,
        ruleName: detail.configRuleName,
        complianceType: detail.newEvaluationResult.complianceType,
        resource: {
          resourceType: detail.resourceType,
          resourceId: detail.resourceId,
          region: detail.awsRegion,
          account: detail.awsAccountId ?? meta.account,
          status: 'OK',
        },
      };
    }
    default:
      return { kind: 'other', id: meta.id, envelope: meta };
  }
}

function configResource(item: z.infer<typeof configItemSummarySchema>): ConfigResource {
  return {
    resourceType: item.resourceType,
    resourceId: item.resourceId,
    arn: item.ARN ?? undefined,
    region: item.awsRegion,
    account: item.awsAccountId,
    status: item.configurationItemStatus,
    captureTime: item.configurationItemCaptureTime ?? undefined,
  };
}

/** The actor of a CloudTrail record, in the words a human reads in a finding. */
export function actorOf(record: CloudTrailRecord): Actor | undefined {
  const u = record.userIdentity;
  if (!u) return undefined;
  // fields set one by one, never deleted: `delete` turns the object into a slow dictionary (each event judged builds one)
  const actor: Actor = {};
  if (u.type !== undefined) actor.type = u.type;
  if (u.arn !== undefined) actor.arn = u.arn;
  if (u.principalId !== undefined) actor.principalId = u.principalId;
  if (u.accountId !== undefined) actor.accountId = u.accountId;
  if (u.userName !== undefined) actor.userName = u.userName;
  const sessionIssuerArn = u.sessionContext?.sessionIssuer?.arn;
  if (sessionIssuerArn !== undefined) actor.sessionIssuerArn = sessionIssuerArn;
  if (u.invokedBy !== undefined) actor.invokedBy = u.invokedBy;
  return actor;
}

/** The time an event happened (CloudTrail `eventTime`, Config capture time, else the envelope time). */
export function eventTimeOf(event: RampartEvent): string | undefined {
  switch (event.kind) {
    case 'cloudtrail':
      return event.record.eventTime;
    case 'config-item':
    case 'config-oversized':
      return event.resource.captureTime ?? event.envelope.time;
    default:
      return event.envelope.time;
  }
}
