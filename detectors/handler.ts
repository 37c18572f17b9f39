import type { EventBridgeEvent } from 'aws-lambda';
import type { AnyDetector } from '../core/control';
import { MalformedEventError, messageOf } from '../core/errors';
import { sdk } from '../core/sdk';
import { parseEvent } from '../core/events';
import type { Finding } from '../core/finding';
import { lambdaAdapter } from '../remediators/handlers/adapter';
import { lazyDeps, type GuardDeps } from '../remediators/handlers/deps';
import { MetricUnit, logger, metrics } from '../remediators/handlers/telemetry';
import type { WorkflowInput } from '../remediators/handlers/workflow';
import { DETECTORS } from '.';
import { judgeObservation, provenanceOf } from './judge';
import { observeLive } from './observe';
import { EventRouter } from './router';

/**
 * The detector Lambda: event → resources → real state (read, not taken from the event) →
 * evaluate → open the finding (conditional write: one open per control + resource) → start
 * the workflow under a name derived from the finding, so duplicates never start two.
 * A malformed event is logged, counted and thrown, so Lambda's retries and then the
 * dead-letter queue keep it.
 */
export interface DetectorSummary {
  findings: string[];
  started: string[];
  compliant: number;
}

export function makeDetectorHandler(getDeps: () => GuardDeps, detectors: readonly AnyDetector[] = DETECTORS) {
  const router = new EventRouter(detectors);
  return async (raw: EventBridgeEvent<string, unknown>): Promise<DetectorSummary> => {
    const deps = getDeps();
    let event;
    try {
      event = parseEvent(raw);
    } catch (error) {
      if (!(error instanceof MalformedEventError)) throw error;
      logger.error('malformed event', { reason: error.message, field: error.field, event: raw });
      metrics.addMetric('MalformedEvents', MetricUnit.Count, 1);
      throw error;
    }
    const summary: DetectorSummary = { findings: [], started: [], compliant: 0 };
    const failures: string[] = [];
    const provenance = provenanceOf(event);
    for (const detector of router.route(event)) {
      if (!deps.policy.controls[detector.id as keyof typeof deps.policy.controls]) continue;
      for (const ref of detector.resourcesFrom(event)) {
        try {
          const observation = await observeLive(detector, ref, deps.policy, deps.clients);
          const judgement = judgeObservation(detector, ref, observation, deps.policy, provenance);
          if (judgement.outcome === 'compliant') {
            summary.compliant++;
            await deps.lastKnownGood.put(judgement.control, ref.arn, judgement.state, deps.clock());
          } else if (judgement.outcome === 'violation') {
            summary.findings.push(judgement.finding.id);
            if (await openAndStart(judgement.finding, deps)) summary.started.push(judgement.finding.id);
          } else {
            logger.info('no finding', { control: detector.id, resource: ref.arn, outcome: judgement.outcome, reason: 'reason' in judgement ? judgement.reason : undefined });
          }
        } catch (error) {
          // one unreadable resource must not hide the others; the event is retried at the end
          failures.push(`${detector.id} ${ref.arn}: ${messageOf(error)}`);
          logger.error('cannot judge resource', { control: detector.id, resource: ref.arn, error: messageOf(error) });
          metrics.addMetric('ReadFailures', MetricUnit.Count, 1);
        }
      }
    }
    if (failures.length > 0) throw new Error(`could not judge ${failures.length} resource(s): ${failures.join('; ')}`);
    return summary;
  };
}

/** Opens the finding and starts its workflow; false when it was open already (a duplicate). */
export async function openAndStart(finding: Finding, deps: GuardDeps): Promise<boolean> {
  const { opened, generation } = await deps.findings.open(finding, deps.clock());
  if (!opened) {
    metrics.addMetric('DuplicateFindings', MetricUnit.Count, 1);
    return false;
  }
  const input: WorkflowInput = { finding, mode: deps.policy.mode, generation };
  try {
    await deps.sfn.send(
      new sdk.sfn.StartExecutionCommand({
        stateMachineArn: deps.config.stateMachineArn,
        // Step Functions refuses a second execution of the same name: a last line against duplicates
        name: `${finding.id}-${generation}`,
        input: JSON.stringify(input),
      }),
    );
  } catch (error) {
    if ((error as { name?: string }).name === 'ExecutionAlreadyExists') return false;
    throw error;
  }
  metrics.addMetric('WorkflowsStarted', MetricUnit.Count, 1);
  return true;
}

// one function per control (RAMPART_CONTROL), so each holds only its control's read grants
const only = process.env.RAMPART_CONTROL;
export const handler = lambdaAdapter('detector', makeDetectorHandler(lazyDeps(), only ? DETECTORS.filter((d) => d.id === only) : DETECTORS));
