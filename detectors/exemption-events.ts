import type { AnyDetector, CloudTrailTrigger } from '../core/control';
import type { ControlId } from '../core/controls';
import { actorOf, type CloudTrailRecord, type RampartEvent } from '../core/events';
import { DEFAULT_EXPIRY_TAG_KEY, exemptionStatus, expiryOf, type ExemptionChange } from '../core/exemptions';
import type { ResourceRef } from '../core/finding';
import type { Policy } from '../core/policy';
import type { ResourceKind, TagEdit } from '../core/resources';

/**
 * Tag changes of guarded resources. Every control reacts to them (the live state is judged
 * again, so an exemption added or removed takes effect at once) and the change itself is
 * reported when it touches an exemption tag (who exempted what).
 *
 * Which calls change a kind's tags, and how to read them, is the kind's own data
 * (`ResourceKind.tagging`, with the kinds in detectors/).
 */

/** The resource kinds of some detectors that have tags (each kind once). */
export function taggedKindsOf(detectors: readonly AnyDetector[]): ResourceKind[] {
  return [...new Set(detectors.flatMap((d) => (d.resources ?? []) as ResourceKind[]))].filter((k) => k.tagging);
}

/** True for a call that changes the tags of one of `kinds` (S3 bucket tags, API Gateway tags...). */
export function isTaggingRecord(record: CloudTrailRecord, kinds: readonly ResourceKind[]): boolean {
  return kinds.some((k) => k.tagging && k.tagging.eventSource === record.eventSource && k.tagging.eventNames.includes(record.eventName));
}

export function isTaggingEvent(
  event: RampartEvent,
  kinds: readonly ResourceKind[],
): event is Extract<RampartEvent, { kind: 'cloudtrail' }> {
  return event.kind === 'cloudtrail' && isTaggingRecord(event.record, kinds);
}

/** The tag edit of a tagging record, or `undefined` when it names no resource of `kinds`. */
export function tagEditOf(record: CloudTrailRecord, kinds: readonly ResourceKind[]): TagEdit | undefined {
  for (const kind of kinds) {
    if (!kind.tagging || kind.tagging.eventSource !== record.eventSource || !kind.tagging.eventNames.includes(record.eventName)) continue;
    const edit = kind.tagging.editOf(record);
    if (edit) return edit;
  }
  return undefined;
}

/**
 * Wraps a detector so that tag changes of its resource kinds reach it: the triggers gain the
 * tagging calls of its kinds and `resourcesFrom` names the tagged resource. The event says
 * nothing of the control's state, so `stateFrom` is `unknown` (online the state is read, as
 * for every event).
 */
export function withTagEvents<D extends AnyDetector>(detector: D): D {
  const kinds = taggedKindsOf([detector]);
  const cloudTrail: CloudTrailTrigger[] = detector.triggers.cloudTrail.map((t) => ({ ...t }));
  for (const { tagging } of kinds) {
    const { source, eventSource, eventNames } = tagging!;
    const same = cloudTrail.find((t) => t.eventSource === eventSource);
    if (same) same.eventNames = [...same.eventNames, ...eventNames.filter((n) => !same.eventNames.includes(n))];
    else cloudTrail.push({ source, eventSource, eventNames });
  }
  const wrapped: Pick<D, 'triggers' | 'resourcesFrom' | 'stateFrom'> = {
    triggers: { ...detector.triggers, cloudTrail },
    resourcesFrom(event: RampartEvent) {
      if (!isTaggingEvent(event, kinds)) return detector.resourcesFrom(event);
      const edit = tagEditOf(event.record, kinds);
      return edit ? [edit.ref] : [];
    },
    stateFrom(event: RampartEvent, ref: ResourceRef) {
      if (isTaggingEvent(event, kinds))
        return { status: 'unknown', reason: `${event.record.eventName} changes tags only; the state takes a read` };
      return detector.stateFrom(event, ref);
    },
  };
  // the detector's properties copied as they are: a spread would read its `policySchema` getter and build the schema
  return Object.defineProperties({} as D, { ...Object.getOwnPropertyDescriptors(detector), ...Object.getOwnPropertyDescriptors(wrapped) });
}

/**
 * The control whose detector reports a resource type's exemption changes: the first enabled
 * one in registry order, so a stage guarded by two controls is reported once.
 */
export function exemptionReporterOf(type: string, controlsOn: readonly string[], registry: readonly AnyDetector[]): ControlId | undefined {
  return registry.find((d) => controlsOn.includes(d.id) && (d.resources ?? []).some((k) => k.type === type))?.id as ControlId | undefined;
}

/**
 * Pure: the exemption changes a tagging event makes, for a resource some enabled control
 * guards. Only keys of the policy's tag exemptions and its expiry tag count. An S3 tag set
 * that leaves the exemption tag out removes it silently (S3 replaces the whole set and the
 * call does not say what was there): that is not reported, and only makes the guard stricter.
 */
export function exemptionChangesOf(
  event: RampartEvent,
  policy: Policy,
  registry: readonly AnyDetector[],
  now: Date | undefined,
): ExemptionChange[] {
  const kinds = taggedKindsOf(registry);
  if (!isTaggingEvent(event, kinds)) return [];
  const exemptTags = Object.entries(policy.exemptions.tags);
  if (exemptTags.length === 0) return [];
  const edit = tagEditOf(event.record, kinds);
  if (!edit || !exemptionReporterOf(edit.ref.type, Object.keys(policy.controls), registry)) return [];
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
      changes.push({
        ...base,
        change: 'removed',
        tagKey: key,
        effect:
          edit.removed === 'all'
            ? 'every tag deleted: no tag exemption remains; the controls judge the resource again'
            : 'no longer exempt by this tag; the controls judge the resource again',
      });
    } else if (edit.set[key] === value) {
      changes.push({
        ...base,
        change: 'added',
        tagKey: key,
        tagValue: value,
        ...(expiry !== undefined ? { expiry } : {}),
        effect: addedEffect(edit, policy, now),
      });
    } else if (edit.set[key] !== undefined) {
      changes.push({
        ...base,
        change: 'removed',
        tagKey: key,
        tagValue: edit.set[key],
        effect: `${key} set to a value that does not exempt (${value} does): the controls judge the resource again`,
      });
    }
  }
  const touchesExemption = changes.some((c) => c.change === 'added');
  if (!touchesExemption && !edit.complete && expiry !== undefined) {
    const end = expiryOf(expiry);
    changes.push({
      ...base,
      change: 'expiry-set',
      tagKey: expiryKey,
      tagValue: expiry,
      effect: end
        ? `a tag exemption of the resource now ends ${end.toISOString()}`
        : `${expiry} is not a date (YYYY-MM-DD): a tag exemption of the resource no longer holds`,
    });
  }
  if (Array.isArray(edit.removed) && edit.removed.includes(expiryKey)) {
    changes.push({
      ...base,
      change: 'expiry-removed',
      tagKey: expiryKey,
      effect: policy.exemptions.requireExpiry
        ? 'a tag exemption of the resource no longer holds: the policy requires an expiry date'
        : 'a tag exemption of the resource no longer expires',
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
