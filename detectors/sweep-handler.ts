import type { Context } from 'aws-lambda';
import type { ControlId } from '../core/controls';
import { lambdaAdapter } from '../remediators/handlers/adapter';
import { lazyDeps, type GuardDeps } from '../remediators/handlers/deps';
import { MetricUnit, logger, metrics } from '../remediators/handlers/telemetry';
import { openAndStart } from './handler';
import { sweep } from './sweep';

/**
 * One page of the periodic sweep, for one control: judged on the same finding path as events
 * (same dedupe, same workflow, same notifications). It stops taking resources a minute before
 * the Lambda would time out and says where to resume; the sweep state machine calls it again.
 */
export interface SweepPageInput {
  control: ControlId;
  sweepId?: string;
  startAfter?: string;
}

export interface SweepPageOutput {
  control: ControlId;
  sweepId: string;
  /** Set when the page stopped early: the next page resumes after this resource. */
  startAfter?: string;
  resources: number;
  findings: number;
  started: number;
  errors: number;
}

const SAFETY_MS = 60_000;

export function makeSweepHandler(getDeps: () => GuardDeps) {
  return async (input: SweepPageInput, context?: Pick<Context, 'getRemainingTimeInMillis'> & Partial<Pick<Context, 'invokedFunctionArn'>>): Promise<SweepPageOutput> => {
    const deps = getDeps();
    const sweepId = input.sweepId ?? `sweep-${deps.clock().toISOString()}`;
    const out: SweepPageOutput = { control: input.control, sweepId, resources: 0, findings: 0, started: 0, errors: 0 };
    let lastListed: string | undefined;
    let stopped = false;
    const shouldStop = () => (stopped ||= context !== undefined && context.getRemainingTimeInMillis() < SAFETY_MS);
    // arn:aws:lambda:<region>:<account>:function:<name>
    const account = context?.invokedFunctionArn?.split(':')[4];
    const items = sweep(deps.policy, deps.clients, {
      sweepId,
      account,
      controls: [input.control],
      concurrency: deps.policy.sweep?.concurrency,
      startAfter: input.startAfter ? { [input.control]: input.startAfter } : undefined,
      shouldStop,
      onListed: (_control, arn) => (lastListed = arn),
    });
    for await (const item of items) {
      if (item.kind === 'list-error') {
        // nothing of the control was swept: fail the page, so the execution (and its alarm) says so
        throw new Error(`cannot list ${item.control} resources: ${item.message}`);
      }
      out.resources++;
      if (item.kind === 'error') {
        out.errors++;
        logger.warn('sweep could not read a resource', { control: item.control, resource: item.resourceArn, error: item.message });
        continue;
      }
      const j = item.judgement;
      if (j.outcome === 'violation') {
        out.findings++;
        if (await openAndStart(j.finding, deps)) out.started++;
      } else if (j.outcome === 'compliant') {
        await deps.lastKnownGood.put(j.control, j.ref.arn, j.state, deps.clock());
      }
    }
    const perControl = metrics.singleMetric();
    perControl.addDimension('control', input.control);
    perControl.addMetric('SweptResources', MetricUnit.Count, out.resources);
    perControl.addMetric('SweepReadFailures', MetricUnit.Count, out.errors);
    return stopped && lastListed ? { ...out, startAfter: lastListed } : out;
  };
}

export const handler = lambdaAdapter('sweep', makeSweepHandler(lazyDeps()));
