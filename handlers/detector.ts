import type { EventBridgeEvent } from 'aws-lambda';
import type { AnyDetector } from '../core/control';
import { MalformedEventError, messageOf } from '../core/errors';
import { parseEvent } from '../core/events';
import { publishExemptionChange } from '../remediators/notifier';
import { lambdaAdapter } from './adapter';
import { depsForAccount } from './account-scope';
import { lazyDeps, type GuardDeps } from './deps';
import { MetricUnit, logger, metrics } from './telemetry';
import { DETECTORS } from '../controls';
import { summarizeEvent } from '../detectors/event-summary';
import { decide } from '../detectors/decide';
import { carryOutOnline } from './decisions';
import { exemptionChangesFor, judgeObservation, provenanceOf } from '../detectors/judge';
import { observeLive } from '../detectors/observe';
import { EventRouter } from '../detectors/router';

/**
 * The detector Lambda: event → resources → real state (read, not taken from the event) →
 * evaluate → open the finding (conditional write: one open per control + resource) → start
 * the workflow under a name derived from the finding, so duplicates never start two (and a
 * duplicate recovers an open finding whose workflow is not running: `finding-workflow.ts`).
 * A malformed event fails the same way every time: it goes straight to the dead-letter queue
 * with its reason, is counted once and logged as a bounded summary, and the invocation ends.
 */
export interface DetectorSummary {
  findings: string[];
  started: string[];
  /** Open findings whose workflow was gone and was started again. */
  recovered: string[];
  compliant: number;
  /** Set when the event was malformed (and dead-lettered). */
  malformed?: string;
}

/** The queue's limit is 256 KiB: a larger event is dead-lettered as its summary. */
const DEAD_LETTER_MAX_CHARS = 200 * 1024;

async function deadLetterMalformed(raw: unknown, error: MalformedEventError, deps: GuardDeps): Promise<void> {
  const { json, ...summary } = summarizeEvent(raw, DEAD_LETTER_MAX_CHARS);
  const reason = error.message.slice(0, 1000);
  logger.error('malformed event', { reason, field: error.field, summary });
  if (!deps.deadLetters) throw new Error(`malformed event (${reason}) and no dead-letter queue to keep it (RAMPART_DEAD_LETTER_QUEUE_URL)`);
  // if the queue cannot be written, this throws: Lambda's retries, then its own dead-letter queue, keep the event
  await deps.deadLetters.send({
    body: json ?? JSON.stringify({ malformedEventSummary: summary, note: 'the event was too large to keep whole' }),
    // ErrorMessage as Lambda names it in the dead letters it writes itself
    attributes: {
      ErrorMessage: reason,
      RampartReason: 'malformed-event',
      ...(error.field ? { RampartField: error.field.slice(0, 256) } : {}),
    },
  });
  metrics.addMetric('MalformedEvents', MetricUnit.Count, 1);
}

/**
 * @param only the detectors to judge with; default: the function's own control
 *   (`RAMPART_CONTROL`: one function per control, so each holds only its control's read
 *   grants), else every control
 */
export function makeDetectorHandler(getDeps: () => GuardDeps, only?: readonly AnyDetector[]) {
  let routing: { detectors: readonly AnyDetector[]; router: EventRouter } | undefined;
  const routingOf = (deps: GuardDeps) => {
    const control = deps.config.control;
    const detectors = only ?? (control ? DETECTORS.filter((d) => d.id === control) : DETECTORS);
    return (routing ??= { detectors, router: new EventRouter(detectors) });
  };
  return async (raw: EventBridgeEvent<string, unknown>): Promise<DetectorSummary> => {
    const deps = getDeps();
    const { detectors, router } = routingOf(deps);
    let event;
    try {
      event = parseEvent(raw);
    } catch (error) {
      if (!(error instanceof MalformedEventError)) throw error;
      await deadLetterMalformed(raw, error, deps);
      return { findings: [], started: [], recovered: [], compliant: 0, malformed: error.message };
    }
    const summary: DetectorSummary = { findings: [], started: [], recovered: [], compliant: 0 };
    const failures: string[] = [];
    const provenance = provenanceOf(event);
    for (const detector of router.route(event)) {
      if (!deps.policy.controls[detector.id as keyof typeof deps.policy.controls]) continue;
      for (const ref of detector.resourcesFrom(event)) {
        try {
          // the resource's own account (in a hub, a member's): its policy, its read role
          const scoped = await depsForAccount(deps, ref.account, { role: 'read', session: `rampart-detect-${detector.id}` });
          const observation = await observeLive(detector, ref, scoped.policy, scoped.clients);
          const decision = decide(judgeObservation(detector, ref, observation, scoped.policy, provenance, deps.clock()));
          if (decision.action === 'record-last-known-good') summary.compliant++;
          if (decision.action === 'open-finding') summary.findings.push(decision.finding.id);
          const opened = await carryOutOnline(decision, scoped);
          if (decision.action === 'open-finding' && opened === 'started') summary.started.push(decision.finding.id);
          if (decision.action === 'open-finding' && opened === 'recovered') summary.recovered.push(decision.finding.id);
        } catch (error) {
          // one unreadable resource must not hide the others; the event is retried at the end
          failures.push(`${detector.id} ${ref.arn}: ${messageOf(error)}`);
          logger.error('cannot judge resource', { control: detector.id, resource: ref.arn, error: messageOf(error) });
          metrics.addMetric('ReadFailures', MetricUnit.Count, 1);
        }
      }
    }
    // a tag change of a guarded resource is reported as such: who exempted what
    for (const change of exemptionChangesFor(event, deps.policy, detectors, DETECTORS, deps.clock(), deps.config.controlsOn)) {
      try {
        if (!deps.config.topicArn) throw new Error('RAMPART_TOPIC_ARN is not set');
        await publishExemptionChange(deps.sns, deps.config.topicArn, change);
      } catch (error) {
        failures.push(`exemption change of ${change.resourceArn}: ${messageOf(error)}`);
        logger.error('cannot publish exemption change', { resource: change.resourceArn, change: change.change, error: messageOf(error) });
      }
    }
    if (failures.length > 0) throw new Error(`could not judge ${failures.length} resource(s): ${failures.join('; ')}`);
    return summary;
  };
}

export const handler = lambdaAdapter('detector', makeDetectorHandler(lazyDeps()));
