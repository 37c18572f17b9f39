import type { AnyDetector, Observation } from '../core/control';
import type { ControlId } from '../core/controls';
import { actorOf, eventTimeOf, type RampartEvent } from '../core/events';
import { refFromArn } from '../core/resources';
import { exemptionOf, type ExemptionChange } from '../core/exemptions';
import { findingId, type Finding, type Provenance, type ResourceRef } from '../core/finding';
import type { Policy } from '../core/policy';
import { exemptionChangesOf, exemptionReporterOf, taggedKindsOf } from './exemption-events';
import type { EventRouter } from './router';

/** What one control concluded about one resource. */
export type Judgement =
  | { outcome: 'violation'; control: ControlId; ref: ResourceRef; finding: Finding; state: unknown }
  | { outcome: 'compliant'; control: ControlId; ref: ResourceRef; state: unknown }
  | { outcome: 'unknown'; control: ControlId; ref: ResourceRef; eventId: string; reason: string }
  | { outcome: 'exempt'; control: ControlId; ref: ResourceRef; reason: string }
  | { outcome: 'gone'; control: ControlId; ref: ResourceRef; reason: string };

/**
 * Pure: one control's verdict on one resource, from an observation of its state (taken from
 * an event, or read from AWS). Exemptions by ARN apply before anything else; exemptions by
 * tag apply when the observation carries the resource's tags, and while their expiry tag
 * (if any) is not past at `now` (default: the event's time; without either, a dated tag
 * exemption does not hold).
 */
export function judgeObservation(
  detector: AnyDetector,
  ref: ResourceRef,
  observation: Observation<unknown>,
  policy: Policy,
  provenance: Provenance,
  now?: Date,
): Judgement {
  const control = detector.id as ControlId;
  const controlPolicy = policy.controls[control];
  if (!controlPolicy) throw new Error(`control ${control} is not enabled in the policy`);
  const tags = observation.status === 'known' ? observation.tags : undefined;
  // the time matters only to a dated tag exemption: parsed only when there are tags (most events carry none)
  const exempt = exemptionOf(ref.arn, tags, policy.exemptions, tags ? (now ?? timeOf(provenance)) : now);
  if (exempt) return { outcome: 'exempt', control, ref, reason: exempt };
  if (observation.status === 'gone') return { outcome: 'gone', control, ref, reason: observation.reason };
  if (observation.status === 'unknown')
    return { outcome: 'unknown', control, ref, eventId: provenance.eventId, reason: observation.reason };
  const evaluation = detector.evaluate(observation.state, controlPolicy, ref);
  if (evaluation.status === 'compliant') return { outcome: 'compliant', control, ref, state: observation.state };
  if (evaluation.status === 'unknown') return { outcome: 'unknown', control, ref, eventId: provenance.eventId, reason: evaluation.reason };
  const finding: Finding = {
    id: findingId(control, ref.account ?? '', ref.arn),
    control,
    severity: detector.severity,
    resourceArn: ref.arn,
    resourceType: ref.type,
    ...(ref.region !== undefined ? { region: ref.region } : {}),
    ...(ref.account !== undefined ? { account: ref.account } : {}),
    observed: evaluation.observed,
    desired: evaluation.desired,
    violation: evaluation.reason,
    ...provenance,
  };
  return { outcome: 'violation', control, ref, finding, state: observation.state };
}

function timeOf(provenance: Provenance): Date | undefined {
  const t = Date.parse(provenance.eventTime ?? '');
  return Number.isNaN(t) ? undefined : new Date(t);
}

/** Where an event came from, in the words of a finding. */
export function provenanceOf(event: RampartEvent): Provenance {
  if (event.kind === 'cloudtrail') {
    const actor = actorOf(event.record);
    return {
      eventId: event.id,
      eventName: event.record.eventName,
      eventSource: event.record.eventSource,
      eventTime: event.record.eventTime,
      ...(actor ? { actor } : {}),
    };
  }
  const eventName =
    event.kind === 'config-compliance'
      ? 'ComplianceChangeNotification'
      : event.kind === 'other'
        ? event.envelope.detailType
        : 'ConfigurationItemChangeNotification';
  return { eventId: event.id, eventName, eventSource: event.envelope.source, eventTime: eventTimeOf(event) };
}

export interface EventVerdict {
  /** At least one enabled control's triggers matched the event (for a tag change: it changed an exemption). */
  matched: boolean;
  judgements: Judgement[];
  /** Exemption tags the event added or removed (who exempted what). */
  exemptions: ExemptionChange[];
}

/**
 * Pure: every enabled control's verdict on an event, the state taken from the event alone
 * (what `rampart replay` shows). Controls absent from the policy are off. A tag change says
 * nothing of a control's state: offline it yields only its exemption changes.
 */
export function judgeEvent(event: RampartEvent, policy: Policy, router: EventRouter): EventVerdict {
  const detectors = router.route(event);
  if (detectors.length === 0) return NO_MATCH;
  if (router.isTagging(event)) {
    const exemptions = exemptionChangesOf(event, policy, router.detectors, timeOf(provenanceOf(event)));
    return exemptions.length > 0 ? { matched: true, judgements: [], exemptions } : NO_MATCH;
  }
  let matched = false;
  const judgements: Judgement[] = [];
  let provenance: Provenance | undefined;
  for (const detector of detectors) {
    if (!policy.controls[detector.id as ControlId]) continue;
    const refs = detector.resourcesFrom(event);
    if (refs.length === 0) continue;
    matched = true;
    provenance ??= provenanceOf(event);
    for (const ref of refs) judgements.push(judgeObservation(detector, ref, detector.stateFrom(event, ref), policy, provenance));
  }
  return matched ? { matched, judgements, exemptions: [] } : NO_MATCH;
}

/**
 * Pure: the exemption changes of an event that a detector function reports: those of the
 * resource types whose reporting control (the first enabled in `registry` order) is among
 * `detectors`, so each change is reported once however many controls guard the resource.
 * `controlsOn`: the controls enabled in the deployed policy, when `policy` holds only a part
 * of it (a detector function gets its own control's slice).
 */
export function exemptionChangesFor(
  event: RampartEvent,
  policy: Policy,
  detectors: readonly AnyDetector[],
  registry: readonly AnyDetector[],
  now: Date,
  controlsOn: readonly string[] = Object.keys(policy.controls),
): ExemptionChange[] {
  const own = new Set(detectors.map((d) => d.id));
  return exemptionChangesOf(event, policy, registry, now).filter((c) => {
    const ref = refFromArn(c.resourceArn, taggedKindsOf(registry));
    const reporter = ref && exemptionReporterOf(ref.type, controlsOn, registry);
    return reporter !== undefined && own.has(reporter);
  });
}

const NO_MATCH: EventVerdict = Object.freeze({ matched: false, judgements: [], exemptions: [] }) as EventVerdict;
