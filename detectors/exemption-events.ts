import { refFromArn, bucketRef } from '../core/arns';
import type { AnyDetector, CloudTrailTrigger } from '../core/control';
import type { ControlId } from '../core/controls';
import { actorOf, type CloudTrailRecord, type RampartEvent } from '../core/events';
import { DEFAULT_EXPIRY_TAG_KEY, TAGGING_EVENTS, exemptionStatus, expiryOf, type ExemptionChange } from '../core/exemptions';
import type { ResourceRef } from '../core/finding';
import type { Policy } from '../core/policy';
import { asObject } from './json';

/**
 * Tag changes of guarded resources. Every control reacts to them (the live state is judged
 * again, so an exemption added or removed takes effect at once) and the change itself is
 * reported when it touches an exemption tag (who exempted what).
 *
 * Shapes: S3 `PutBucketTagging` carries the whole new tag set in
 * `requestParameters.Tagging.TagSet.Tag` (a list, or an object for one tag) next to an empty
 * `tagging` query marker, `DeleteBucketTagging` removes every tag. API Gateway `TagResource`
 * carries `resourceArn` and `tags` (a map), `UntagResource` `resourceArn` and `tagKeys`
 * (API member names, as API Gateway records name ids); no real record confirms whether the
 * body is wrapped (`tagResourceInput`) like other API Gateway bodies, so both are read.
 */

type TaggingService = keyof typeof TAGGING_EVENTS;

/** True for a tagging call of a guarded resource type's service (S3 bucket tags, API Gateway tags). */
export function isTaggingRecord(record: CloudTrailRecord): boolean {
  const names = TAGGING_EVENTS[record.eventSource as TaggingService] as readonly string[] | undefined;
  return names !== undefined && names.includes(record.eventName);
}

export function isTaggingEvent(event: RampartEvent): event is Extract<RampartEvent, { kind: 'cloudtrail' }> {
  return event.kind === 'cloudtrail' && isTaggingRecord(event.record);
}

/** What a tagging call did: tags set, keys removed, or (S3) the whole set replaced or deleted. */
export interface TagEdit {
  ref: ResourceRef;
  /** Tags the call set. */
  set: Record<string, string>;
  /** Keys the call removed; `all` for DeleteBucketTagging. */
  removed: string[] | 'all';
  /** The call replaced the whole tag set (S3): `set` is every tag the resource now has. */
  complete: boolean;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function s3TagSet(params: Record<string, unknown>): Record<string, string> {
  const tagging = asObject(params.Tagging) ?? asObject(params.tagging);
  const tags = asObject(asObject(tagging?.TagSet))?.Tag;
  const list = Array.isArray(tags) ? tags : tags === undefined ? [] : [tags];
  const out: Record<string, string> = {};
  for (const t of list) {
    const tag = asObject(t);
    if (typeof tag?.Key === 'string') out[tag.Key] = typeof tag.Value === 'string' ? tag.Value : '';
  }
  return out;
}

function stringMap(value: unknown): Record<string, string> {
  const o = asObject(value);
  if (!o) return {};
  return Object.fromEntries(Object.entries(o).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

function keyList(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((k): k is string => typeof k === 'string');
  // a query parameter may be rendered as one comma-separated string
  return typeof value === 'string' && value !== '' ? value.split(',') : [];
}

/** The tag edit of a tagging record, or `undefined` when it names no resource Rampart guards. */
export function tagEditOf(record: CloudTrailRecord): TagEdit | undefined {
  if (!isTaggingRecord(record)) return undefined;
  const params = record.requestParameters ?? {};
  if (record.eventSource === 's3.amazonaws.com') {
    const bucket = str(params.bucketName);
    if (!bucket) return undefined;
    const ref = bucketRef(bucket, record.awsRegion, record.recipientAccountId);
    return record.eventName === 'DeleteBucketTagging'
      ? { ref, set: {}, removed: 'all', complete: true }
      : { ref, set: s3TagSet(params), removed: [], complete: true };
  }
  const arn = str(params.resourceArn) ?? str(params.resource_arn);
  const ref = arn ? refFromArn(decodeURIComponent(arn), record.recipientAccountId) : undefined;
  if (!ref) return undefined;
  const body = asObject(params.tagResourceInput) ?? params;
  return record.eventName === 'TagResource'
    ? { ref, set: stringMap(body.tags), removed: [], complete: false }
    : { ref, set: {}, removed: keyList(params.tagKeys), complete: false };
}

/**
 * Wraps a detector so that tag changes of its resource types reach it: the triggers gain the
 * tagging calls of its resource types' services and `resourcesFrom` names the tagged
 * resource. The event says nothing of the control's state, so `stateFrom` is `unknown` (online
 * the state is read, as for every event).
 */
export function withTagEvents(detector: AnyDetector): AnyDetector {
  const services = new Set<TaggingService>();
  for (const type of detector.resourceTypes) services.add(type === 'AWS::S3::Bucket' ? 's3.amazonaws.com' : 'apigateway.amazonaws.com');
  const cloudTrail: CloudTrailTrigger[] = detector.triggers.cloudTrail.map((t) => ({ ...t }));
  for (const service of services) {
    const names = TAGGING_EVENTS[service];
    const same = cloudTrail.find((t) => t.eventSource === service);
    if (same) same.eventNames = [...same.eventNames, ...names.filter((n) => !same.eventNames.includes(n))];
    else cloudTrail.push({ source: service === 's3.amazonaws.com' ? 'aws.s3' : 'aws.apigateway', eventSource: service, eventNames: names });
  }
  return {
    ...detector,
    triggers: { ...detector.triggers, cloudTrail },
    resourcesFrom(event) {
      if (!isTaggingEvent(event)) return detector.resourcesFrom(event);
      const edit = tagEditOf(event.record);
      return edit && detector.resourceTypes.includes(edit.ref.type) ? [edit.ref] : [];
    },
    stateFrom(event, ref) {
      if (isTaggingEvent(event)) return { status: 'unknown', reason: `${event.record.eventName} changes tags only; the state takes a read` };
      return detector.stateFrom(event, ref);
    },
  };
}

/**
 * The control whose detector reports a resource type's exemption changes: the first enabled
 * one in registry order, so a stage guarded by two controls is reported once.
 */
export function exemptionReporterOf(type: ResourceRef['type'], policy: Policy, registry: readonly AnyDetector[]): ControlId | undefined {
  return registry.find((d) => policy.controls[d.id as ControlId] !== undefined && d.resourceTypes.includes(type))?.id as ControlId | undefined;
}

/**
 * Pure: the exemption changes a tagging event makes, for a resource some enabled control
 * guards. Only keys of the policy's tag exemptions and its expiry tag count. An S3 tag set
 * that leaves the exemption tag out removes it silently (S3 replaces the whole set and the
 * call does not say what was there): that is not reported, and only makes the guard stricter.
 */
export function exemptionChangesOf(event: RampartEvent, policy: Policy, registry: readonly AnyDetector[], now: Date | undefined): ExemptionChange[] {
  if (!isTaggingEvent(event)) return [];
  const exemptTags = Object.entries(policy.exemptions.tags);
  if (exemptTags.length === 0) return [];
  const edit = tagEditOf(event.record);
  if (!edit || !exemptionReporterOf(edit.ref.type, policy, registry)) return [];
  const record = event.record;
  const actor = actorOf(record);
  const base = {
    resourceArn: edit.ref.arn,
    ...(actor ? { actor } : {}),
    eventId: event.id,
    eventName: record.eventName,
    ...(record.eventTime ? { eventTime: record.eventTime } : {}),
  };
  const expiryKey = policy.exemptions.expiryTagKey ?? DEFAULT_EXPIRY_TAG_KEY;
  const expiry = edit.set[expiryKey];
  const changes: ExemptionChange[] = [];
  for (const [key, value] of exemptTags) {
    if (edit.removed === 'all' || edit.removed.includes(key)) {
      changes.push({ ...base, change: 'removed', tagKey: key, effect: edit.removed === 'all' ? 'every tag deleted: no tag exemption remains; the controls judge the resource again' : 'no longer exempt by this tag; the controls judge the resource again' });
    } else if (edit.set[key] === value) {
      changes.push({ ...base, change: 'added', tagKey: key, tagValue: value, ...(expiry !== undefined ? { expiry } : {}), effect: addedEffect(edit, policy, now) });
    } else if (edit.set[key] !== undefined) {
      changes.push({ ...base, change: 'removed', tagKey: key, tagValue: edit.set[key], effect: `${key} set to a value that does not exempt (${value} does): the controls judge the resource again` });
    }
  }
  const touchesExemption = changes.some((c) => c.change === 'added');
  if (!touchesExemption && !edit.complete && expiry !== undefined) {
    const end = expiryOf(expiry);
    changes.push({ ...base, change: 'expiry-set', tagKey: expiryKey, tagValue: expiry, effect: end ? `a tag exemption of the resource now ends ${end.toISOString()}` : `${expiry} is not a date (YYYY-MM-DD): a tag exemption of the resource no longer holds` });
  }
  if (Array.isArray(edit.removed) && edit.removed.includes(expiryKey)) {
    changes.push({
      ...base,
      change: 'expiry-removed',
      tagKey: expiryKey,
      effect: policy.exemptions.requireExpiry ? 'a tag exemption of the resource no longer holds: the policy requires an expiry date' : 'a tag exemption of the resource no longer expires',
    });
  }
  return changes;
}

/** What an added exemption amounts to: judged from the whole tag set when the call gives it (S3). */
function addedEffect(edit: TagEdit, policy: Policy, now: Date | undefined): string {
  const expiryKey = policy.exemptions.expiryTagKey ?? DEFAULT_EXPIRY_TAG_KEY;
  if (edit.complete || edit.set[expiryKey] !== undefined) {
    const status = exemptionStatus(edit.ref.arn, edit.set, { ...policy.exemptions, arns: [] }, now);
    return status.exempt ? `exempt from every control (${status.reason})` : `not exempt: ${status.reason ?? 'no exemption tag'}`;
  }
  return policy.exemptions.requireExpiry
    ? `exempt only while the resource also carries a valid ${expiryKey} (not set by this call)`
    : `exempt from every control (no ${expiryKey} set by this call; one already on the resource still applies)`;
}
