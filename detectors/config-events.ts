import type { Observation } from '../core/control';
import type { ConfigItem, RampartEvent } from '../core/events';
import type { ResourceKind, ResourceRef } from '../core/resources';
import { extend } from '../core/extend';

/**
 * What every control reads the same way from AWS Config: which resource a notification is
 * about, and when it says nothing of the state (deleted, oversized, a rule's verdict).
 */

/**
 * Config renders `configuration` and each `supplementaryConfiguration` value as objects in
 * change notifications but as JSON strings in API answers (GetResourceConfigHistory), which
 * users also replay: both are accepted.
 */
function withParsedJson(item: ConfigItem): ConfigItem {
  const parse = (value: unknown): unknown => {
    if (typeof value !== 'string') return value;
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  };
  const supplementary = item.supplementaryConfiguration
    ? Object.fromEntries(Object.entries(item.supplementaryConfiguration).map(([k, v]) => [k, parse(v)]))
    : item.supplementaryConfiguration;
  return extend(item, { configuration: parse(item.configuration), supplementaryConfiguration: supplementary });
}

/** The resource of a Config notification, when it is of `kind`; `undefined` for other events. */
export function refFromConfigEvent(event: RampartEvent, kind: ResourceKind): ResourceRef[] | undefined {
  if (event.kind !== 'config-item' && event.kind !== 'config-oversized' && event.kind !== 'config-compliance') return undefined;
  const r = event.resource;
  if (r.resourceType !== kind.configResourceType) return [];
  const ref = kind.fromConfig(r);
  return ref ? [ref] : [];
}

/**
 * The state a Config notification gives (`fromItem` reads the item's configuration), or
 * `undefined` when the event is not a Config notification.
 */
export function configObservation<S>(
  event: RampartEvent,
  noun: string,
  fromItem: (item: ConfigItem) => Observation<S>,
): Observation<S> | undefined {
  switch (event.kind) {
    case 'config-item': {
      if (event.resource.status.startsWith('ResourceDeleted')) return { status: 'gone', reason: `AWS Config reports the ${noun} deleted` };
      const observation = fromItem(withParsedJson(event.item));
      return observation.status === 'known' ? extend(observation, { tags: event.item.tags ?? undefined }) : observation;
    }
    case 'config-oversized':
      return { status: 'unknown', reason: `oversized Config notification: the state is only in S3, read the ${noun}` };
    case 'config-compliance':
      return { status: 'unknown', reason: `Config rule ${event.ruleName} reports ${event.complianceType}; the state must be read` };
    default:
      return undefined;
  }
}
