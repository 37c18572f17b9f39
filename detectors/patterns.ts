import type { AnyDetector } from '../core/control';
import { CLOUDTRAIL_DETAIL_TYPE, CONFIG_COMPLIANCE_DETAIL_TYPE, CONFIG_ITEM_DETAIL_TYPE } from '../core/events';

/** An EventBridge event pattern, as `AWS::Events::Rule.EventPattern` takes it. */
export type EventPattern = Record<string, unknown>;

/**
 * The EventBridge patterns of a detector's triggers: one per CloudTrail event source, one for
 * Config item changes, one for Config rule compliance changes. Failed calls (`errorCode`
 * present) are filtered out by the pattern already, so they never cost an invocation.
 * `EventRouter` applies the same rules offline.
 */
export function eventPatternsOf(detector: AnyDetector): EventPattern[] {
  const patterns: EventPattern[] = detector.triggers.cloudTrail.map((trigger) => ({
    source: [trigger.source],
    'detail-type': [CLOUDTRAIL_DETAIL_TYPE],
    detail: {
      eventSource: [trigger.eventSource],
      eventName: [...trigger.eventNames],
      errorCode: [{ exists: false }],
    },
  }));
  const types = [...detector.triggers.configResourceTypes];
  if (types.length > 0) {
    patterns.push({
      source: ['aws.config'],
      'detail-type': [CONFIG_ITEM_DETAIL_TYPE],
      // oversized notifications carry only configurationItemSummary
      detail: { $or: [{ configurationItem: { resourceType: types } }, { configurationItemSummary: { resourceType: types } }] },
    });
    patterns.push({
      source: ['aws.config'],
      'detail-type': [CONFIG_COMPLIANCE_DETAIL_TYPE],
      detail: { resourceType: types, newEvaluationResult: { complianceType: ['NON_COMPLIANT'] } },
    });
  }
  return patterns;
}
