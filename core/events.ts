import { z } from 'zod';
import { MalformedEventError } from './errors';
import type { Actor } from './finding';

/**
 * Typed envelopes of the events Rampart consumes, validated at the edge with zod. Only the
 * fields Rampart reads are checked; everything else passes through untouched.
 *
 * Shapes: "AWS API Call via CloudTrail" (CloudTrail record under `detail`), bare CloudTrail
 * records (log files, `{"Records": [...]}`), "Config Configuration Item Change" (including the
 * oversized variant that carries only a summary), "Config Rules Compliance Change".
 */

const userIdentitySchema = z
  .looseObject({
    type: z.string().optional(),
    principalId: z.string().optional(),
    arn: z.string().optional(),
    accountId: z.string().optional(),
    userName: z.string().optional(),
    invokedBy: z.string().optional(),
    sessionContext: z
      .looseObject({
        sessionIssuer: z.looseObject({ arn: z.string().optional() }).optional(),
      })
      .optional(),
  })
  .optional();

export const cloudTrailRecordSchema = z.looseObject({
  eventVersion: z.string().optional(),
  eventSource: z.string().min(1),
  eventName: z.string().min(1),
  eventTime: z.string().min(1),
  awsRegion: z.string().min(1),
  eventID: z.string().min(1),
  userIdentity: userIdentitySchema,
  // null for calls without parameters; absent in some service records
  requestParameters: z.record(z.string(), z.unknown()).nullish(),
  responseElements: z.unknown().optional(),
  errorCode: z.string().nullish(),
  errorMessage: z.string().nullish(),
  recipientAccountId: z.string().optional(),
});
export type CloudTrailRecord = z.infer<typeof cloudTrailRecordSchema>;

const configItemSchema = z.looseObject({
  resourceType: z.string().min(1),
  resourceId: z.string().min(1),
  resourceName: z.string().nullish(),
  ARN: z.string().nullish(),
  awsRegion: z.string().min(1),
  awsAccountId: z.string().optional(),
  configurationItemStatus: z.string(),
  configurationItemCaptureTime: z.string().nullish(),
  configuration: z.unknown().optional(),
  supplementaryConfiguration: z.record(z.string(), z.unknown()).nullish(),
  tags: z.record(z.string(), z.string()).nullish(),
});
export type ConfigItem = z.infer<typeof configItemSchema>;

const configItemSummarySchema = z.looseObject({
  resourceType: z.string().min(1),
  resourceId: z.string().min(1),
  ARN: z.string().nullish(),
  awsRegion: z.string().min(1),
  awsAccountId: z.string().optional(),
  configurationItemStatus: z.string(),
  configurationItemCaptureTime: z.string().nullish(),
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
  awsAccountId: z.string().optional(),
  newEvaluationResult: z.looseObject({ complianceType: z.string() }),
});

const envelopeSchema = z.looseObject({
  id: z.string().min(1),
  'detail-type': z.string().min(1),
  source: z.string().min(1),
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

function check<T>(schema: z.ZodType<T>, value: unknown, prefix: string, what: string): T {
  const result = schema.safeParse(value);
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
    throw new MalformedEventError(
      'not an EventBridge event (no "detail-type") nor a CloudTrail record (no "eventSource"/"eventName")',
    );
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
  const actor: Actor = {
    type: u.type,
    arn: u.arn,
    principalId: u.principalId,
    accountId: u.accountId,
    userName: u.userName,
    sessionIssuerArn: u.sessionContext?.sessionIssuer?.arn,
    invokedBy: u.invokedBy,
  };
  for (const key of Object.keys(actor) as (keyof Actor)[]) if (actor[key] === undefined) delete actor[key];
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
