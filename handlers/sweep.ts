import type { Context } from 'aws-lambda';
import type { ControlId } from '../core/controls';
import { lambdaAdapter } from './adapter';
import { depsForAccount } from './account-scope';
import { lazyDeps, type GuardDeps } from './deps';
import { MetricUnit, logger, metrics } from './telemetry';
import { messageOf } from '../core/errors';
import { decide } from '../detectors/decide';
import { ensureWorkflow } from '../remediators/finding-workflow';
import { carryOutOnline } from './decisions';
import { sweep } from '../detectors/sweep';
import { DETECTORS } from '../controls';

/**
 * One page of the periodic sweep, for one control: judged on the same finding path as events
 * (same dedupe, same workflow, same notifications). It stops taking resources a minute before
 * the Lambda would time out and says where to resume; the sweep state machine calls it again.
 *
 * The first page of a control is also the watchdog of its open findings: each has its workflow
 * checked (and started again when it is gone, as a duplicate event would), even when its
 * resource is compliant by now and no event will come; those open longer than the approval
 * timeout + 1 hour are counted (`StaleOpenFindings`, alarmed).
 */
export interface SweepPageInput {
  control: ControlId;
  sweepId?: string;
  startAfter?: string;
  /**
   * The organization sweep: a member account (read through its read role) and the regions swept
   * there (the policy's `organization.regions`; a control lists them as it does for one account,
   * so a global listing such as S3's runs once per account). Default: the guard's own.
   */
  account?: string;
  regions?: string[];
}

export interface SweepPageOutput {
  control: ControlId;
  account?: string;
  /** Given back as given: the state machine passes the output on as the next page's input. */
  regions?: string[];
  sweepId: string;
  /** Set when the page stopped early: the next page resumes after this resource. */
  startAfter?: string;
  resources: number;
  findings: number;
  started: number;
  /** Open findings whose workflow was gone and was started again. */
  recovered: number;
  /** Open findings older than the approval timeout + 1 hour (first page only). */
  stale: number;
  errors: number;
  /**
   * The organization sweep: the member account could not be entered (its read role could not
   * be assumed: member stack missing, an SCP, the trust). The page reports it and succeeds, so
   * one account never ends the sweep of the others; `UnreachableAccounts` alarms.
   */
  unreachable?: { error: string };
}

const SAFETY_MS = 60_000;
const HOUR_MS = 3_600_000;

/** Checks every open finding of the control; counts the stale ones. */
async function watchOpenFindings(deps: GuardDeps, out: SweepPageOutput): Promise<void> {
  const staleBefore = deps.clock().getTime() - (deps.policy.approvals.timeoutHours * HOUR_MS + HOUR_MS);
  for await (const record of deps.findings.listOpen(out.control)) {
    if (Date.parse(record.openedAt) < staleBefore) {
      out.stale++;
      logger.warn('finding open longer than the approval timeout + 1 hour', {
        findingId: record.id,
        resource: record.finding.resourceArn,
        openedAt: record.openedAt,
        status: record.status,
      });
    }
    try {
      if ((await ensureWorkflow(record, deps)) === 'recovered') out.recovered++;
    } catch (error) {
      out.errors++;
      logger.error('cannot check the workflow of an open finding', { findingId: record.id, error: messageOf(error) });
    }
  }
}

export function makeSweepHandler(getDeps: () => GuardDeps) {
  return async (
    input: SweepPageInput,
    context?: Pick<Context, 'getRemainingTimeInMillis'> & Partial<Pick<Context, 'invokedFunctionArn'>>,
  ): Promise<SweepPageOutput> => {
    const hub = getDeps();
    // an organization sweep's page reads one member account through its read role
    const deps = input.account ? await depsForAccount(hub, input.account, { role: 'read', session: 'rampart-sweep' }) : hub;
    const sweepId = input.sweepId ?? `sweep-${deps.clock().toISOString()}`;
    const out: SweepPageOutput = {
      ...(input.account ? { account: input.account } : {}),
      ...(input.regions ? { regions: input.regions } : {}),
      control: input.control,
      sweepId,
      resources: 0,
      findings: 0,
      started: 0,
      recovered: 0,
      stale: 0,
      errors: 0,
    };
    // the watchdog runs in the guard's own sweep: once per control, not once per member account
    if (!input.startAfter && !input.account) await watchOpenFindings(deps, out);
    let lastListed: string | undefined;
    let stopped = false;
    const shouldStop = () => (stopped ||= context !== undefined && context.getRemainingTimeInMillis() < SAFETY_MS);
    const regions = input.regions ?? [];
    const clients = regions.length > 0 ? { ...deps.clients, region: regions[0]!, regions } : deps.clients;
    const items = sweep(deps.policy, clients, {
      detectors: DETECTORS,
      sweepId,
      // the listing's account: the client set's (a listing does not say it, findings and fixes need it)
      account: clients.account,
      controls: [input.control],
      concurrency: deps.policy.sweep?.concurrency,
      startAfter: input.startAfter ? { [input.control]: input.startAfter } : undefined,
      shouldStop,
      onListed: (_control, arn) => (lastListed = arn),
      clock: deps.clock,
    });
    for await (const item of items) {
      if (item.kind === 'list-error') {
        if (input.account && item.unreachable) {
          out.unreachable = { error: item.message };
          logger.error('member account unreachable: its read role cannot be assumed', {
            account: input.account,
            control: input.control,
            sweepId,
            error: item.message,
          });
          metrics.addMetric('UnreachableAccounts', MetricUnit.Count, 1);
          continue;
        }
        // nothing of the control was swept: fail the page, so the execution (and its alarm) says so
        throw new Error(`cannot list ${item.control} resources: ${item.message}`);
      }
      out.resources++;
      if (item.kind === 'error') {
        out.errors++;
        logger.warn('sweep could not read a resource', { control: item.control, resource: item.resourceArn, error: item.message });
        continue;
      }
      const decision = decide(item.judgement);
      if (decision.action === 'open-finding') out.findings++;
      try {
        const opened = await carryOutOnline(decision, deps);
        if (opened === 'started') out.started++;
        if (opened === 'recovered') out.recovered++;
      } catch (error) {
        if (decision.action !== 'open-finding') throw error;
        // the finding is left for the next sweep (or event) to recover; WorkflowStartFailures alarms
        out.errors++;
        logger.error('cannot open the finding or start its workflow', {
          control: decision.control,
          resource: decision.ref.arn,
          error: messageOf(error),
        });
      }
    }
    const perControl = metrics.singleMetric();
    perControl.addDimension('control', input.control);
    perControl.addMetric('SweptResources', MetricUnit.Count, out.resources);
    perControl.addMetric('SweepReadFailures', MetricUnit.Count, out.errors);
    // without the control dimension: one alarm for the guard (StaleOpenFindings, Maximum per hour)
    if (!input.startAfter && !input.account) metrics.addMetric('StaleOpenFindings', MetricUnit.Count, out.stale);
    return stopped && lastListed ? { ...out, startAfter: lastListed } : out;
  };
}

export const handler = lambdaAdapter('sweep', makeSweepHandler(lazyDeps()));
