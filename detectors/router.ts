import type { AnyDetector } from '../core/control';
import type { RampartEvent } from '../core/events';

/**
 * Routes an event to the detectors whose triggers match it, with the same rules the
 * EventBridge patterns of `patterns.ts` express: event source + name for CloudTrail (failed
 * calls excluded: they changed nothing), resource type for Config items, resource type and
 * NON_COMPLIANT for Config rule compliance changes. Lookups are by key, so routing costs the
 * same whatever the number of controls.
 *
 * @example new EventRouter(DETECTORS).route(parseEvent(event)).map((d) => d.id)
 */
export class EventRouter {
  private readonly byApiCall = new Map<string, AnyDetector[]>();
  private readonly byResourceType = new Map<string, AnyDetector[]>();

  constructor(readonly detectors: readonly AnyDetector[]) {
    for (const detector of detectors) {
      for (const trigger of detector.triggers.cloudTrail) {
        for (const name of trigger.eventNames) push(this.byApiCall, apiCallKey(trigger.eventSource, name), detector);
      }
      for (const type of detector.triggers.configResourceTypes) push(this.byResourceType, type, detector);
    }
  }

  route(event: RampartEvent): readonly AnyDetector[] {
    switch (event.kind) {
      case 'cloudtrail':
        // a record with an errorCode is a call that failed and changed nothing
        if (event.record.errorCode) return NONE;
        return this.byApiCall.get(apiCallKey(event.record.eventSource, event.record.eventName)) ?? NONE;
      case 'config-item':
      case 'config-oversized':
        return this.byResourceType.get(event.resource.resourceType) ?? NONE;
      case 'config-compliance':
        return event.complianceType === 'NON_COMPLIANT' ? (this.byResourceType.get(event.resource.resourceType) ?? NONE) : NONE;
      default:
        return NONE;
    }
  }
}

const NONE: readonly AnyDetector[] = Object.freeze([]);

function apiCallKey(eventSource: string, eventName: string): string {
  return `${eventSource}\u0000${eventName}`;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
