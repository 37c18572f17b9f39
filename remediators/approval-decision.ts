import type { SFNClient } from '@aws-sdk/client-sfn';
import type { Decision } from '../core/approval-links';
import { messageOf } from '../core/errors';
import type { Policy } from '../core/policy';
import { sdk } from '../core/sdk';
import type { ApprovalRecord, ApprovalStore, DecisionStatus, FindingsStore } from '../core/stores';
import { approverName, refusalFor, type Approver, type Refusal } from './approval-rules';

/**
 * The one approval-decision service: Slack buttons, email links and `rampart approvals` all
 * decide through {@link decideApproval}, so they refuse the same people and record the same truth.
 *
 * Order, and why: the approver is checked first (a stranger learns nothing about the request);
 * the record moves `pending` → decided with a conditional write (a second click, a replayed
 * link, a racing decision lose there); then the workflow is resumed. What is recorded is what
 * happened: a decision the workflow never took is undone (it still waits: try again) or
 * recorded as `expired`/`withdrawn` (it had stopped waiting), never left as `approved`.
 */

/** What the waiting workflow receives: the approval state's output. */
export interface ApprovalDecision {
  decision: Decision;
  by: string;
}

export interface DecisionDeps {
  approvals: ApprovalStore;
  findings: FindingsStore;
  sfn: SFNClient;
  /**
   * The rules to check against; without it (the CLI), those the guard recorded on the request
   * (`rules`), and with neither nobody may decide.
   */
  policy?: Pick<Policy, 'approvals' | 'notifications'>;
  clock: () => Date;
  log?: (level: 'info' | 'warn' | 'error', message: string, data: Record<string, unknown>) => void;
  /** Tries per AWS call before a transient failure counts (default 3). */
  attempts?: number;
  /** Waits between tries (injected so tests do not wait). */
  sleep?: (ms: number) => Promise<void>;
}

export type DecisionResult =
  | { ok: true; approval: ApprovalRecord; by: string; at: string; decision: Decision; uncertain?: boolean }
  | ({ ok: false; approval?: ApprovalRecord } & Refusal);

// Step Functions' answers when the task no longer waits for this token
const NOT_WAITING = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);
// answers that will not change on another try
const PERMANENT = new Set([
  ...NOT_WAITING,
  'InvalidOutput',
  'AccessDeniedException',
  'AccessDenied',
  'ValidationException',
  'ResourceNotFoundException',
]);

const nameOf = (error: unknown) => (error as { name?: string })?.name ?? 'Error';

/** Calls `fn` until it succeeds, a permanent error comes back, or the tries run out; says how many tries it took. */
async function withRetries<T>(deps: DecisionDeps, fn: () => Promise<T>): Promise<{ value: T; tries: number }> {
  const attempts = deps.attempts ?? 3;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let tries = 1; ; tries++) {
    try {
      return { value: await fn(), tries };
    } catch (error) {
      if (tries >= attempts || PERMANENT.has(nameOf(error))) throw Object.assign(error as object, { rampartTries: tries });
      await sleep(100 * 4 ** (tries - 1));
    }
  }
}

const triesOf = (error: unknown) => (error as { rampartTries?: number }).rampartTries ?? 1;

const refuse = (refusal: Refusal, approval?: ApprovalRecord): DecisionResult => ({
  ok: false,
  ...refusal,
  ...(approval ? { approval } : {}),
});

const NOT_RECORDED =
  'Rampart could not record the decision just now; nothing was decided and the request still waits. Try again in a minute.';

/**
 * Decides approval `id` as `approver`, once, and resumes the workflow.
 *
 * @example await decideApproval(deps, { id, decision: 'approve', approver: { channel: 'email', address: 'alice@example.com' } })
 */
export async function decideApproval(
  deps: DecisionDeps,
  request: { id: string; decision: Decision; approver: Approver },
): Promise<DecisionResult> {
  const { id, decision, approver } = request;
  const log = deps.log ?? (() => undefined);
  const status: DecisionStatus = decision === 'approve' ? 'approved' : 'rejected';
  const by = approverName(approver);

  let approval: ApprovalRecord | undefined;
  try {
    approval = (await withRetries(deps, () => deps.approvals.get(id))).value;
  } catch (error) {
    log('error', 'cannot read the approval', { approvalId: id, error: messageOf(error) });
    return refuse({ refused: 'not-recorded', message: NOT_RECORDED });
  }
  if (!approval) return refuse({ refused: 'not-found', message: 'No such approval request.' });
  const refusal = refusalFor(deps.policy ?? rulesOf(approval), approval.finding, approver);
  if (refusal) {
    log('warn', 'approval refused', { approvalId: id, by, refused: refusal.refused });
    return refuse(refusal);
  }
  const ours = (a: ApprovalRecord) => a.status === status && a.decidedBy === by && !a.deliveredAt;
  if (approval.status !== 'pending' && !ours(approval)) return refuse(alreadyDecided(approval), approval);
  const now = deps.clock();
  if (Date.parse(approval.expiresAt) < now.getTime()) {
    return refuse({ refused: 'expired', message: `This request expired at ${approval.expiresAt}; nothing was changed.` }, approval);
  }

  // pending → decided, once
  let claimed: ApprovalRecord;
  try {
    const result = (await withRetries(deps, () => deps.approvals.decide(id, status, by, now))).value;
    if ('decided' in result) claimed = result.decided;
    else {
      // a write that landed but whose answer was lost looks like someone else's decision: look
      const current = await deps.approvals.get(id);
      if (!current || !ours(current))
        return refuse(current ? alreadyDecided(current) : { refused: 'not-found', message: 'No such approval request.' }, current);
      claimed = current;
    }
  } catch (error) {
    log('error', 'cannot record the decision', { approvalId: id, by, error: messageOf(error) });
    return refuse({ refused: 'not-recorded', message: NOT_RECORDED }, approval);
  }

  const output: ApprovalDecision = { decision, by };
  try {
    await withRetries(deps, () =>
      deps.sfn.send(new sdk.sfn.SendTaskSuccessCommand({ taskToken: claimed.taskToken, output: JSON.stringify(output) })),
    );
  } catch (error) {
    return notDelivered(deps, claimed, by, decision, error);
  }
  const at = deps.clock().toISOString();
  await bestEffort(deps, 'cannot mark the decision delivered', id, () => deps.approvals.markDelivered(id, new Date(at)));
  await bestEffort(deps, 'cannot add the decision to the finding history', id, () =>
    deps.findings.update(claimed.findingId, { entry: { at, event: status, by } }),
  );
  log('info', 'approval decided', { approvalId: id, decision, by });
  return { ok: true, approval: { ...claimed, deliveredAt: at }, by, at, decision };
}

/** The rules recorded on a request; an old request without them lists nobody (fail closed). */
function rulesOf(approval: ApprovalRecord): Pick<Policy, 'approvals' | 'notifications'> {
  const rules = approval.rules ?? { approvers: { slackUserIds: [], emails: [], iamPrincipalArns: [] }, allowSelfApproval: false };
  return { approvals: { timeoutHours: 0, ...rules }, notifications: { emails: [] } };
}

function alreadyDecided(a: ApprovalRecord): Refusal {
  const who = a.decidedBy ? ` by ${a.decidedBy}` : '';
  return { refused: 'already-decided', message: `This request is already ${a.status}${who}; nothing changed.` };
}

/** The workflow did not take the decision: record what really happened. */
async function notDelivered(
  deps: DecisionDeps,
  claimed: ApprovalRecord,
  by: string,
  decision: Decision,
  error: unknown,
): Promise<DecisionResult> {
  const log = deps.log ?? (() => undefined);
  const name = nameOf(error);
  const id = claimed.id;
  if (NOT_WAITING.has(name) && triesOf(error) > 1) {
    // an earlier try got no answer and may have landed: the workflow's own outcome settles it
    // (a timed-out workflow expires this record; one that took the decision goes on)
    log('warn', 'decision delivery uncertain', { approvalId: id, by, error: name });
    return { ok: true, approval: claimed, by, at: deps.clock().toISOString(), decision, uncertain: true };
  }
  if (NOT_WAITING.has(name)) {
    const status = name === 'TaskTimedOut' ? 'expired' : 'withdrawn';
    const note = `${by} chose ${decision} after the workflow had stopped waiting (${name}); nothing was applied`;
    const at = deps.clock();
    await bestEffort(deps, 'cannot record the late decision', id, () => deps.approvals.close(id, status, note, at));
    await bestEffort(deps, 'cannot add the late decision to the finding history', id, () =>
      deps.findings.update(claimed.findingId, { entry: { at: at.toISOString(), event: 'approval-too-late', by, detail: note } }),
    );
    log('warn', 'workflow no longer waiting', { approvalId: id, by, error: name });
    return refuse(
      {
        refused: 'workflow-gone',
        message: 'The workflow is no longer waiting for this decision (it timed out or ended); nothing was applied.',
      },
      { ...claimed, status, note },
    );
  }
  // the workflow still waits: undo the claim so this or another approver can decide again
  log('error', 'cannot resume the workflow', { approvalId: id, by, error: messageOf(error) });
  await bestEffort(deps, 'cannot undo the undelivered decision', id, () => deps.approvals.release(id, by));
  return refuse({ refused: 'not-recorded', message: NOT_RECORDED }, claimed);
}

async function bestEffort(deps: DecisionDeps, what: string, approvalId: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    await withRetries(deps, fn);
  } catch (error) {
    deps.log?.('error', what, { approvalId, error: messageOf(error) });
  }
}

/**
 * The workflow stopped waiting (its approval timeout): ends the approval of this finding
 * generation, saying whether nobody decided or a decision never reached the workflow.
 */
export async function expireApproval(approvals: ApprovalStore, findingId: string, generation: number, at: Date): Promise<void> {
  const id = await approvals.idOf(findingId, generation);
  const approval = id ? await approvals.get(id) : undefined;
  if (
    !approval ||
    approval.deliveredAt ||
    (approval.status !== 'pending' && approval.status !== 'approved' && approval.status !== 'rejected')
  )
    return;
  const note =
    approval.status === 'pending'
      ? 'no decision before the approval timeout'
      : `${approval.decidedBy ?? 'someone'} chose ${approval.status === 'approved' ? 'approve' : 'reject'}, but the decision never reached the workflow before the approval timeout`;
  await approvals.close(approval.id, 'expired', note, at);
}
