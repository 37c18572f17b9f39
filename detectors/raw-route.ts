import type { AnyDetector } from '../core/control';
import { CLOUDTRAIL_DETAIL_TYPE, CONFIG_COMPLIANCE_DETAIL_TYPE, CONFIG_ITEM_DETAIL_TYPE } from '../core/events';

/**
 * Routing before validation, on the raw JSON of an event: whether it may concern a detector.
 * `rampart replay` validates an event (zod, `parseEvent`) only when it may; in a CloudTrail log
 * almost every record is a call no control reads, and validating those was most of the replay's
 * time. The rules are the {@link EventRouter}'s, read from the raw fields: CloudTrail event
 * source + name (a call with an `errorCode` changed nothing), Config resource type, Config rule
 * compliance NON_COMPLIANT. `false` only when sure: a field missing or of the wrong type
 * answers `true`, so the validation names it.
 */
export class RawRouter {
  private readonly apiCalls = new Set<string>();
  private readonly resourceTypes = new Set<string>();

  constructor(detectors: readonly AnyDetector[]) {
    for (const detector of detectors) {
      for (const trigger of detector.triggers.cloudTrail)
        for (const name of trigger.eventNames) this.apiCalls.add(apiCallKey(trigger.eventSource, name));
      for (const type of detector.triggers.configResourceTypes) this.resourceTypes.add(type);
    }
  }

  /** False when the event is sure to route to no detector, whether well-formed or not. */
  mayRoute(raw: unknown): boolean {
    if (!isObject(raw)) return true;
    const detailType = raw['detail-type'];
    if (detailType === undefined) return this.recordMayRoute(raw);
    if (typeof detailType !== 'string') return true;
    const detail = raw.detail;
    if (detailType === CLOUDTRAIL_DETAIL_TYPE) return !isObject(detail) || this.recordMayRoute(detail);
    if (detailType === CONFIG_ITEM_DETAIL_TYPE) {
      if (!isObject(detail)) return true;
      const item =
        detail.messageType === 'ConfigurationItemChangeNotification'
          ? detail.configurationItem
          : detail.messageType === 'OversizedConfigurationItemChangeNotification'
            ? detail.configurationItemSummary
            : undefined;
      return !isObject(item) || this.typeMayRoute(item.resourceType);
    }
    if (detailType === CONFIG_COMPLIANCE_DETAIL_TYPE) {
      if (!isObject(detail)) return true;
      const result = detail.newEvaluationResult;
      const compliance = isObject(result) ? result.complianceType : undefined;
      if (typeof compliance === 'string' && compliance !== 'NON_COMPLIANT') return false;
      return this.typeMayRoute(detail.resourceType);
    }
    // another EventBridge event type: no control consumes it (an empty one is malformed)
    return detailType === '';
  }

  private recordMayRoute(record: Record<string, unknown>): boolean {
    const { eventSource, eventName, errorCode } = record;
    if (typeof eventSource !== 'string' || typeof eventName !== 'string' || eventSource === '' || eventName === '') return true;
    if (errorCode !== undefined && errorCode !== null && typeof errorCode !== 'string') return true;
    if (errorCode) return false;
    return this.apiCalls.has(apiCallKey(eventSource, eventName));
  }

  private typeMayRoute(type: unknown): boolean {
    return typeof type !== 'string' || type === '' || this.resourceTypes.has(type);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function apiCallKey(eventSource: string, eventName: string): string {
  return `${eventSource}\u0000${eventName}`;
}
