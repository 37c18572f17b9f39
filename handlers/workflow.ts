import { randomUUID } from 'node:crypto';
import { approvalLink } from '../core/approval-links';
import { describeChange } from '../core/control';
import { findingSessionName } from '../core/assume-role';
import type { MemberRoleKind } from '../core/aws';
import type { Finding } from '../core/finding';
import { messageOf } from '../core/errors';
import { isTerminalKind, type Notification, type NotificationKind } from '../core/notify';
import type { RemediationResult } from '../core/outcome';
import type { FindingRecord } from '../core/stores';
import type { ApprovalRequestInput, ChangeInput, NotifyInput, WorkflowInput } from '../core/workflow';
import { ALL_CONTROLS } from '../controls';
import { awsErrorName } from '../detectors/aws-errors';
import { expireApproval } from '../remediators/approval-decision';
import { approvalReasonOf } from '../remediators/approval-rules';
import { isTransient, PUBLISH_FAILED, REMEDIATION_ERRORS, type WorkflowRetryError } from '../remediators/failures';
import { publishApprovalLinks, publishNotification } from '../remediators/notifier';
import { applyChange, planRemediation, verifyChange, type PlanStep, type RemediationContext } from '../remediators/remediate';
import { lambdaAdapter } from './adapter';
import { depsForAccount } from './account-scope';
import { lazyDeps, type GuardDeps } from './deps';
import { MetricUnit, logger, metrics } from './telemetry';

/**
 * The Lambda tasks of the remediation workflow. Each is a thin adapter over the remediation
 * steps; the state machine (infra) decides the order, the approvals and the retries.
 */

/** Errors the state machine retries by name (the names and their retries: failures.ts, the workflow construct). */
export class RetryableError extends Error {
  constructor(name: WorkflowRetryError, message: string) {
    super(message);
    this.name = name;
  }
}

/** A transient fault (throttle, 5xx, timeout) as the error the state machine retries; others as they are. */
function retryableOr(error: unknown): unknown {
  if (!isTransient(error)) return error;
  const code = awsErrorName(error) ?? 'Error';
  return new RetryableError(
    code === REMEDIATION_ERRORS.notYetVisible ? 'Rampart.NotYetVisible' : 'Rampart.Transient',
    `${code}: ${messageOf(error)}`,
  );
}

/** A failed outcome whose fault may pass, as the error the state machine retries. */
function retryableFailure(failure: RemediationResult): RetryableError {
  const name: WorkflowRetryError =
    failure.errorCode === REMEDIATION_ERRORS.notYetVisible
      ? 'Rampart.NotYetVisible'
      : /Throttl|TooManyRequests|SlowDown|RequestLimitExceeded|LimitsExceeded/.test(failure.errorCode ?? '')
        ? 'Rampart.Throttled'
        : 'Rampart.Transient';
  return new RetryableError(name, failure.reason);
}

/**
 * The remediation context of a finding: its account's policy and clients (in a hub, the member
 * role: `remediate` to apply, `read` to plan and verify), under a session named for the finding
 * so the member account's CloudTrail ties each call to it. `account` is where the clients act:
 * a single-account guard refuses a finding of another account.
 */
async function contextOf(deps: GuardDeps, finding: Finding, role: MemberRoleKind): Promise<RemediationContext> {
  const scoped = await depsForAccount(deps, finding.account, { role, session: findingSessionName(finding.id) });
  return {
    controls: ALL_CONTROLS,
    policy: scoped.policy,
    clients: scoped.clients,
    lastKnownGood: deps.lastKnownGood,
    fixes: deps.fixes,
    clock: deps.clock,
    verifyAttempts: 1,
    ...(scoped.clients.account ? { account: scoped.clients.account } : {}),
  };
}

/** Why a failure happened, from a Catch's `{Error, Cause}` (Cause may be a Lambda error as JSON). */
function failureReason(n: NotifyInput['notification']): string | undefined {
  if (n.reason || !n.error) return n.reason;
  let cause = n.error.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string };
    if (parsed.errorMessage) cause = parsed.errorMessage;
  } catch {
    // a plain-text cause
  }
  return `${n.error.Error ?? 'Error'}: ${cause}`.trim();
}

/**
 * Pure: whether Notify records its notification on the finding. Notify is retried (a throttled
 * publish, a lost response), and its record is made first: a retry finds it made already. A
 * finding re-opened since (a newer generation) belongs to another workflow and is not touched.
 */
export function recordingOf(
  record: FindingRecord | undefined,
  generation: number,
  kind: NotificationKind,
): 'record' | 'recorded' | 'not-ours' {
  if (!record || record.generation !== generation) return 'not-ours';
  if (isTerminalKind(kind)) return record.status === 'closed' ? 'recorded' : 'record';
  if (kind === 'detected') return record.history.some((h) => h.event === 'notified' && h.detail === 'detected') ? 'recorded' : 'record';
  return 'record';
}

/**
 * @param newId approval ids: random, so holding one (or knowing the finding) tells nothing
 *   about another; injected for tests
 */
export function makeWorkflowHandlers(getDeps: () => GuardDeps, newId: () => string = randomUUID) {
  return {
    /**
     * Records a notification on the finding (terminal kinds close it), then publishes it. The
     * record comes first so that a notification that cannot go out (a throttled topic, a
     * disabled key) never keeps the finding open; the state machine retries this task and
     * dead-letters the notification when it still fails.
     */
    async notify(input: NotifyInput): Promise<{ kind: NotificationKind }> {
      const deps = getDeps();
      const { kind } = input.notification;
      const notification: Notification = {
        kind,
        finding: input.finding,
        reason: failureReason(input.notification),
        ...(input.notification.change ? { change: input.notification.change } : {}),
        ...(input.notification.decidedBy ? { decidedBy: input.notification.decidedBy } : {}),
      };
      const at = deps.clock().toISOString();
      const record = await deps.findings.get(input.finding.id);
      const recording = recordingOf(record, input.generation, kind);
      if (recording === 'not-ours')
        logger.warn('the finding is not at this generation: not recorded', {
          findingId: input.finding.id,
          generation: input.generation,
          current: record?.generation,
        });
      if (recording === 'record') {
        if (kind === 'expired') await expireApproval(deps.approvals, input.finding.id, input.generation, deps.clock());
        await deps.findings.update(input.finding.id, {
          ...(isTerminalKind(kind) ? { status: 'closed' as const, outcome: kind } : {}),
          // the detection itself is recorded when the finding opens; here, that people were told
          entry:
            kind === 'detected'
              ? { at, event: 'notified', detail: 'detected' }
              : {
                  at,
                  event: kind,
                  ...(notification.reason ? { detail: notification.reason } : {}),
                  ...(notification.decidedBy ? { by: notification.decidedBy } : {}),
                },
        });
        // per-control metrics, published at once with their own dimension
        const perControl = metrics.singleMetric();
        perControl.addDimension('control', input.finding.control);
        perControl.addMetric(
          kind === 'detected' ? 'FindingsOpened' : isTerminalKind(kind) ? 'FindingsClosed' : 'Notifications',
          MetricUnit.Count,
          1,
        );
        if (kind === 'remediated' && record) {
          const timing = metrics.singleMetric();
          timing.addDimension('control', input.finding.control);
          timing.addMetric('TimeToRemediate', MetricUnit.Seconds, (Date.parse(at) - Date.parse(record.openedAt)) / 1000);
        }
      }
      if (deps.config.topicArn) {
        try {
          await publishNotification(deps.sns, deps.config.topicArn, notification);
        } catch (error) {
          // the record is made: the state machine retries the publish, then dead-letters it
          throw Object.assign(new Error(`${awsErrorName(error) ?? 'Error'}: ${messageOf(error)}`, { cause: error }), {
            name: PUBLISH_FAILED,
          });
        }
      }
      return { kind };
    },

    /** Reads the live state and plans the fix (or ends with an outcome); a transient read error is retried. */
    async plan(input: WorkflowInput): Promise<PlanStep> {
      try {
        return await planRemediation(input.finding, await contextOf(getDeps(), input.finding, 'read'));
      } catch (error) {
        throw retryableOr(error);
      }
    },

    /**
     * Applies the change; a transient fault (of the write or of the fix budget) is thrown back
     * for the state machine to retry. The resource is planned again first: an approval can come
     * hours after the plan, a retry may follow a write that went through, and a change is
     * applied only while it is still exactly the one that was planned (and approved).
     */
    async apply(input: ChangeInput): Promise<{ failure?: RemediationResult }> {
      const deps = getDeps();
      let failure: RemediationResult | undefined;
      try {
        const ctx = await contextOf(deps, input.finding, 'remediate');
        const fresh = await planRemediation(input.finding, ctx);
        if ('done' in fresh) return { failure: fresh.done };
        if (JSON.stringify(fresh.change) !== JSON.stringify(input.change)) {
          return {
            failure: {
              outcome: 'failed',
              control: input.finding.control,
              resourceArn: input.finding.resourceArn,
              change: input.change,
              errorCode: 'StalePlan',
              reason: `the resource changed since the fix was planned; nothing applied. The fix it needs now: ${describeChange(fresh.change)}`,
            },
          };
        }
        failure = await applyChange(input.finding, input.change, ctx);
      } catch (error) {
        throw retryableOr(error);
      }
      if (failure?.retryable) throw retryableFailure(failure);
      if (failure) return { failure };
      // the fix is made and counted: a history line that cannot be written does not make it a
      // failure (Verify and the outcome still run; the outcome is recorded there)
      try {
        await deps.findings.update(input.finding.id, {
          entry: { at: deps.clock().toISOString(), event: 'applied', detail: input.change.operation },
        });
      } catch (error) {
        logger.warn('the fix was applied but could not be recorded in the history', {
          findingId: input.finding.id,
          error: messageOf(error),
        });
      }
      return {};
    },

    /** One re-read; not yet compliant, or a transient read error, is thrown back for the state machine to retry with backoff. */
    async verify(input: ChangeInput): Promise<RemediationResult> {
      let result: RemediationResult;
      try {
        result = await verifyChange(input.finding, input.change, await contextOf(getDeps(), input.finding, 'read'));
      } catch (error) {
        throw retryableOr(error);
      }
      if (result.errorCode === 'VerifyMismatch') throw new RetryableError('Rampart.NotYetCompliant', result.reason);
      if (result.retryable) throw retryableFailure(result);
      return result;
    },

    /**
     * Records the approval request (with its task token), tells everyone on the topic (Slack
     * buttons, the CLI command) and sends each listed approver their own signed links.
     */
    async requestApproval(input: ApprovalRequestInput): Promise<void> {
      const deps = getDeps();
      const now = deps.clock();
      const expiresAt = new Date(now.getTime() + deps.policy.approvals.timeoutHours * 3_600_000);
      const id = newId();
      await deps.approvals.create({
        id,
        findingId: input.finding.id,
        generation: input.generation,
        taskToken: input.taskToken,
        finding: input.finding,
        change: input.change,
        createdAt: now.toISOString(),
        expiresAt: expiresAt.toISOString(),
        status: 'pending',
        reason: approvalReasonOf(input.finding, input.change.operation, deps.policy),
        rules: { approvers: deps.policy.approvals.approvers, allowSelfApproval: deps.policy.approvals.allowSelfApproval },
      });
      const approval = { id, expiresAt: expiresAt.toISOString() };
      const notification: Notification = { kind: 'awaiting-approval', finding: input.finding, change: input.change, approval };
      if (deps.config.topicArn) {
        await publishNotification(deps.sns, deps.config.topicArn, notification);
        if (deps.config.approvalApiUrl && deps.config.approvalSecretArn && deps.policy.approvals.approvers.emails.length > 0) {
          const secret = await deps.secrets.get(deps.config.approvalSecretArn);
          const url = deps.config.approvalApiUrl;
          await publishApprovalLinks(
            deps.sns,
            deps.config.topicArn,
            notification,
            deps.policy.approvals.approvers.emails,
            (approver, decision) => approvalLink(secret, url, id, decision, expiresAt, approver),
          );
        }
      }
      await deps.findings.update(input.finding.id, {
        status: 'awaiting-approval',
        entry: { at: now.toISOString(), event: 'approval-requested', detail: id },
      });
      logger.info('approval requested', { approvalId: id, findingId: input.finding.id });
    },
  };
}

const handlers = makeWorkflowHandlers(lazyDeps());
export const notifyHandler = lambdaAdapter('notify', handlers.notify);
export const planHandler = lambdaAdapter('plan', handlers.plan);
export const applyHandler = lambdaAdapter('apply', handlers.apply);
export const verifyHandler = lambdaAdapter('verify', handlers.verify);
export const requestApprovalHandler = lambdaAdapter('request-approval', handlers.requestApproval);

export type { ApprovalRequestInput, ChangeInput, NotifyInput, WorkflowInput } from '../core/workflow';
