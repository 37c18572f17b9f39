import { randomUUID } from 'node:crypto';
import type { Change } from '../../core/control';
import { approvalLink } from '../../core/approval-links';
import type { Finding } from '../../core/finding';
import type { Notification, NotificationKind } from '../../core/notify';
import type { RemediationResult } from '../../core/outcome';
import { expireApproval } from '../approval-decision';
import { publishApprovalLinks, publishNotification } from '../notifier';
import { applyChange, planRemediation, verifyChange, type PlanStep, type RemediationContext } from '../remediate';
import { lambdaAdapter } from './adapter';
import { lazyDeps, type GuardDeps } from './deps';
import { MetricUnit, logger, metrics } from './telemetry';

/**
 * The Lambda tasks of the remediation workflow. Each is a thin adapter over the remediation
 * steps; the state machine (infra) decides the order, the approvals and the retries.
 */

/** The execution input the detector starts the workflow with. */
export interface WorkflowInput {
  finding: Finding;
  mode: 'enforce' | 'dry-run';
  generation: number;
}

export interface NotifyInput {
  finding: Finding;
  generation: number;
  notification: { kind: NotificationKind; reason?: string; change?: Change | null; decidedBy?: string; error?: { Error?: string; Cause?: string } };
}

export interface ChangeInput {
  finding: Finding;
  change: Change;
  generation: number;
}

export interface ApprovalRequestInput extends ChangeInput {
  taskToken: string;
}

/** Errors the state machine retries by name. */
export class RetryableError extends Error {
  constructor(name: 'Rampart.Throttled' | 'Rampart.NotYetCompliant', message: string) {
    super(message);
    this.name = name;
  }
}

function contextOf(deps: GuardDeps): RemediationContext {
  return { policy: deps.policy, clients: deps.clients, lastKnownGood: deps.lastKnownGood, fixes: deps.fixes, clock: deps.clock, verifyAttempts: 1 };
}

const TERMINAL: ReadonlySet<NotificationKind> = new Set(['remediated', 'already-compliant', 'resource-gone', 'exempt', 'loop-suspected', 'rejected', 'expired', 'failed', 'dry-run']);

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
 * @param newId approval ids: random, so holding one (or knowing the finding) tells nothing
 *   about another; injected for tests
 */
export function makeWorkflowHandlers(getDeps: () => GuardDeps, newId: () => string = randomUUID) {
  return {
    /** Publishes a notification and records it on the finding; terminal kinds close it. */
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
      if (deps.config.topicArn) await publishNotification(deps.sns, deps.config.topicArn, notification);
      const at = deps.clock().toISOString();
      if (kind === 'expired') await expireApproval(deps.approvals, input.finding.id, input.generation, deps.clock());
      await deps.findings.update(input.finding.id, {
        ...(TERMINAL.has(kind) ? { status: 'closed' as const, outcome: kind } : {}),
        // the detection itself is recorded when the finding opens; here, that people were told
        entry:
          kind === 'detected'
            ? { at, event: 'notified', detail: 'detected' }
            : { at, event: kind, ...(notification.reason ? { detail: notification.reason } : {}), ...(notification.decidedBy ? { by: notification.decidedBy } : {}) },
      });
      // per-control metrics, published at once with their own dimension
      const perControl = metrics.singleMetric();
      perControl.addDimension('control', input.finding.control);
      perControl.addMetric(kind === 'detected' ? 'FindingsOpened' : TERMINAL.has(kind) ? 'FindingsClosed' : 'Notifications', MetricUnit.Count, 1);
      if (kind === 'remediated') {
        const record = await deps.findings.get(input.finding.id);
        if (record) {
          const timing = metrics.singleMetric();
          timing.addDimension('control', input.finding.control);
          timing.addMetric('TimeToRemediate', MetricUnit.Seconds, (Date.parse(at) - Date.parse(record.openedAt)) / 1000);
        }
      }
      return { kind };
    },

    /** Reads the live state and plans the fix (or ends with an outcome). */
    async plan(input: WorkflowInput): Promise<PlanStep> {
      return planRemediation(input.finding, contextOf(getDeps()));
    },

    /**
     * Applies the change; a throttled call is thrown back for the state machine to retry.
     * The resource is planned again first: an approval can come hours after the plan, and a
     * change is applied only while it is still exactly the one that was planned (and approved).
     */
    async apply(input: ChangeInput): Promise<{ failure?: RemediationResult }> {
      const deps = getDeps();
      const ctx = contextOf(deps);
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
            reason: `the resource changed since the fix was planned; nothing applied. The fix it needs now: ${fresh.change.operation} ${JSON.stringify(fresh.change.input)}`,
          },
        };
      }
      const failure = await applyChange(input.finding, input.change, ctx);
      if (failure?.errorCode && /Throttl|TooManyRequests|SlowDown|RequestLimitExceeded/.test(failure.errorCode)) {
        throw new RetryableError('Rampart.Throttled', failure.reason);
      }
      await deps.findings.update(input.finding.id, { entry: { at: deps.clock().toISOString(), event: 'applied', detail: input.change.operation } });
      return failure ? { failure } : {};
    },

    /** One re-read; not yet compliant is thrown back for the state machine to retry with backoff. */
    async verify(input: ChangeInput): Promise<RemediationResult> {
      const result = await verifyChange(input.finding, input.change, contextOf(getDeps()));
      if (result.errorCode === 'VerifyMismatch') throw new RetryableError('Rampart.NotYetCompliant', result.reason);
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
        rules: { approvers: deps.policy.approvals.approvers, allowSelfApproval: deps.policy.approvals.allowSelfApproval },
      });
      const approval = { id, expiresAt: expiresAt.toISOString() };
      const notification: Notification = { kind: 'awaiting-approval', finding: input.finding, change: input.change, approval };
      if (deps.config.topicArn) {
        await publishNotification(deps.sns, deps.config.topicArn, notification);
        if (deps.config.approvalApiUrl && deps.config.approvalSecretArn && deps.policy.approvals.approvers.emails.length > 0) {
          const secret = await deps.secrets.get(deps.config.approvalSecretArn);
          const url = deps.config.approvalApiUrl;
          await publishApprovalLinks(deps.sns, deps.config.topicArn, notification, deps.policy.approvals.approvers.emails, (approver, decision) => approvalLink(secret, url, id, decision, expiresAt, approver));
        }
      }
      await deps.findings.update(input.finding.id, { status: 'awaiting-approval', entry: { at: now.toISOString(), event: 'approval-requested', detail: id } });
      logger.info('approval requested', { approvalId: id, findingId: input.finding.id });
    },
  };
}

export type WorkflowHandlers = ReturnType<typeof makeWorkflowHandlers>;

const handlers = makeWorkflowHandlers(lazyDeps());
export const notifyHandler = lambdaAdapter('notify', handlers.notify);
export const planHandler = lambdaAdapter('plan', handlers.plan);
export const applyHandler = lambdaAdapter('apply', handlers.apply);
export const verifyHandler = lambdaAdapter('verify', handlers.verify);
export const requestApprovalHandler = lambdaAdapter('request-approval', handlers.requestApproval);
