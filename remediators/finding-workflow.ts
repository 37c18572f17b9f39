import type { ExecutionStatus, SFNClient } from '@aws-sdk/client-sfn';
import { sdk } from '../core/sdk';
import type { Finding } from '../core/finding';
import type { FindingRecord } from '../core/stores';
import type { Policy } from '../core/policy';
import type { FindingsStore } from '../core/stores';
import type { Telemetry } from '../core/telemetry';
import { executionNameOf, type WorkflowInput } from '../core/workflow';

/**
 * An open finding always has a live workflow, or gets one: the finding is opened with a
 * conditional write, then its workflow started; a duplicate (the next event, Lambda's retry of
 * this one, the sweep) checks the execution of the open finding and starts it again when it is
 * not running. So a StartExecution that failed, or a write whose response was lost, strands
 * nothing: whoever sees the finding next recovers it.
 */

/** What became of a finding the detector or the sweep saw in violation. */
export type OpenOutcome =
  /** opened, and its workflow started */
  | 'started'
  /** open already, its workflow live (or just being started by whoever opened it) */
  | 'duplicate'
  /** open already, its workflow gone (never started, failed, timed out, aborted): started again */
  | 'recovered';

/**
 * Whoever opened a finding may still be starting its workflow for this long (the SDK's retries
 * of StartExecution, inside a 60 s detector): a duplicate seeing no execution yet starts it too
 * (same name and input, so one execution), but does not count it as a recovery.
 */
export const OPENER_GRACE_MS = 120_000;

/** Statuses of an execution that is still doing the finding's work. */
const LIVE: ReadonlySet<string> = new Set<ExecutionStatus>(['RUNNING', 'PENDING_REDRIVE']);

export { executionNameOf };

/** What opening a finding and starting its workflow takes (the Lambdas' deps have it all). */
export interface FindingWorkflowDeps {
  findings: FindingsStore;
  sfn: Pick<SFNClient, 'send'>;
  policy: Pick<Policy, 'mode'>;
  config: { stateMachineArn?: string };
  clock: () => Date;
  telemetry: Telemetry;
}

/** arn:<partition>:states:<region>:<account>:stateMachine:<name> → …:execution:<name>:<execution name> */
export function executionArnOf(stateMachineArn: string, executionName: string): string {
  const parts = stateMachineArn.split(':');
  if (parts.length !== 7 || parts[5] !== 'stateMachine') throw new Error(`not a state machine ARN: ${stateMachineArn}`);
  return [...parts.slice(0, 5), 'execution', parts[6], executionName].join(':');
}

/** JSON with sorted keys: the same finding gives the same input whichever copy started it (Step Functions dedupes on name + input). */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

function stateMachineArnOf(deps: FindingWorkflowDeps): string {
  const arn = deps.config.stateMachineArn;
  if (!arn) throw new Error('RAMPART_STATE_MACHINE_ARN is not set');
  return arn;
}

/**
 * Starts the workflow of one finding generation. The client's own retries (core/aws.ts
 * settings) cover throttling, 5xx and timeouts; what still fails is thrown, so Lambda retries
 * the event and its dead-letter queue keeps it. An execution of that name existing already
 * means someone else started it: the work is running.
 */
async function startWorkflow(finding: Finding, generation: number, deps: FindingWorkflowDeps): Promise<void> {
  const input: WorkflowInput = { finding, mode: deps.policy.mode, generation };
  try {
    await deps.sfn.send(
      new sdk.sfn.StartExecutionCommand({
        stateMachineArn: stateMachineArnOf(deps),
        name: executionNameOf(finding.id, generation),
        input: canonicalJson(input),
      }),
    );
  } catch (error) {
    if ((error as { name?: string }).name === 'ExecutionAlreadyExists') return;
    throw error;
  }
}

/** The status of a generation's execution; `missing` when it was never started. */
async function executionStatus(record: FindingRecord, deps: FindingWorkflowDeps): Promise<string> {
  try {
    const out = await deps.sfn.send(
      new sdk.sfn.DescribeExecutionCommand({
        executionArn: executionArnOf(stateMachineArnOf(deps), executionNameOf(record.id, record.generation)),
      }),
    );
    return out.status ?? 'missing';
  } catch (error) {
    if ((error as { name?: string }).name === 'ExecutionDoesNotExist') return 'missing';
    throw error;
  }
}

/**
 * Makes sure an open finding's workflow is live: none started yet → started under its name;
 * ended without closing the finding (failed, timed out, aborted, even succeeded) → the finding
 * moves to the next generation and that starts. Closed findings are left alone.
 */
export function ensureWorkflow(record: FindingRecord, deps: FindingWorkflowDeps): Promise<OpenOutcome> {
  return countingFailures(deps, () => ensureLive(record, deps));
}

/** A finding that could not be opened or checked, or whose workflow could not be started, past the SDK's retries: counted (alarmed), then thrown. */
async function countingFailures<T>(deps: FindingWorkflowDeps, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    deps.telemetry.count('WorkflowStartFailures');
    throw error;
  }
}

async function ensureLive(record: FindingRecord, deps: FindingWorkflowDeps): Promise<OpenOutcome> {
  if (record.status === 'closed') return 'duplicate';
  const status = await executionStatus(record, deps);
  if (LIVE.has(status)) return 'duplicate';
  let generation = record.generation;
  if (status === 'missing') {
    const since = Date.parse(record.restartedAt ?? record.openedAt);
    if (deps.clock().getTime() - since < OPENER_GRACE_MS) {
      // the opener may be mid-start: start it too (one execution either way), no alarm
      await startWorkflow(record.finding, generation, deps);
      return 'duplicate';
    }
  } else {
    const next = await deps.findings.restart(
      record.id,
      record.generation,
      deps.clock(),
      `the workflow ${executionNameOf(record.id, record.generation)} ended ${status} with the finding still open`,
    );
    // closed meanwhile, or someone else restarted it: their start is theirs to make
    if (next === undefined) return 'duplicate';
    generation = next;
  }
  await startWorkflow(record.finding, generation, deps);
  deps.telemetry.warn('finding recovered: its workflow was not running', {
    findingId: record.id,
    control: record.finding.control,
    resource: record.finding.resourceArn,
    execution: status,
    generation,
  });
  deps.telemetry.count('FindingsRecovered');
  return 'recovered';
}

/** Opens the finding and starts its workflow; a duplicate checks the open finding's workflow instead. */
export function openAndStart(finding: Finding, deps: FindingWorkflowDeps): Promise<OpenOutcome> {
  return countingFailures(deps, async () => {
    const { opened, generation, record } = await deps.findings.open(finding, deps.clock());
    if (!opened) {
      deps.telemetry.count('DuplicateFindings');
      return ensureLive(record, deps);
    }
    await startWorkflow(finding, generation, deps);
    deps.telemetry.count('WorkflowsStarted');
    return 'started' as const;
  });
}
