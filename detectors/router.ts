import type { AnyDetector } from '../core/control';
import type { RampartEvent } from '../core/events';
import type { ResourceKind } from '../core/resources';

/** What an API call routes to, worked out once per (eventSource, eventName) when the router is built. */
interface ApiCallRoute {
  detectors: AnyDetector[];
  /** The call changes the tags of a kind the detectors guard (it says nothing of a control's state). */
  tagging: boolean;
}

/**
 * Routes an event to the detectors whose triggers match it, with the same rules the
 * EventBridge patterns of `patterns.ts` express: event source + name for CloudTrail (failed
 * calls excluded: they changed nothing), resource type for Config items, resource type and
 * NON_COMPLIANT for Config rule compliance changes. The tables are built once: routing an
 * event is two map lookups, whatever the number of controls (it runs for every replayed event).
 *
 * @example new EventRouter(DETECTORS).route(parseEvent(event)).map((d) => d.id)
 */
export class EventRouter {
  /** eventSource → eventName → route: no key string built per event. */
  private readonly byApiCall = new Map<string, Map<string, ApiCallRoute>>();
  private readonly byResourceType = new Map<string, AnyDetector[]>();
  /** The resource kinds of the detectors that have tags, each once. */
  readonly taggedKinds: readonly ResourceKind[];

  constructor(readonly detectors: readonly AnyDetector[]) {
    for (const detector of detectors) {
      for (const trigger of detector.triggers.cloudTrail) {
        for (const name of trigger.eventNames) {
          const route = this.apiCallRoute(trigger.eventSource, name);
          if (!route.detectors.includes(detector)) route.detectors.push(detector);
        }
      }
      for (const type of detector.triggers.configResourceTypes) push(this.byResourceType, type, detector);
    }
    this.taggedKinds = [...new Set(detectors.flatMap((d) => d.resources ?? []))].filter((k) => k.tagging);
    for (const { tagging } of this.taggedKinds)
      for (const name of tagging!.eventNames) this.apiCallRoute(tagging!.eventSource, name).tagging = true;
  }

  route(event: RampartEvent): readonly AnyDetector[] {
    switch (event.kind) {
      case 'cloudtrail':
        // a record with an errorCode is a call that failed and changed nothing
        if (event.record.errorCode) return NONE;
        return this.byApiCall.get(event.record.eventSource)?.get(event.record.eventName)?.detectors ?? NONE;
      case 'config-item':
      case 'config-oversized':
        return this.byResourceType.get(event.resource.resourceType) ?? NONE;
      case 'config-compliance':
        return event.complianceType === 'NON_COMPLIANT' ? (this.byResourceType.get(event.resource.resourceType) ?? NONE) : NONE;
      default:
        return NONE;
    }
  }

  /** True for a CloudTrail call that changes the tags of one of {@link taggedKinds} (failed or not). */
  isTagging(event: RampartEvent): event is Extract<RampartEvent, { kind: 'cloudtrail' }> {
    return event.kind === 'cloudtrail' && this.byApiCall.get(event.record.eventSource)?.get(event.record.eventName)?.tagging === true;
  }

  private apiCallRoute(eventSource: string, eventName: string): ApiCallRoute {
    let byName = this.byApiCall.get(eventSource);
    if (!byName) this.byApiCall.set(eventSource, (byName = new Map()));
    let route = byName.get(eventName);
    if (!route) byName.set(eventName, (route = { detectors: [], tagging: false }));
    return route;
  }
}

const NONE: readonly AnyDetector[] = Object.freeze([]);

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
