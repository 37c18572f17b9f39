import type { AwsClients } from '../core/aws';
import { permissionOf, stepsOf, type Change, type Control } from '../core/control';
import type { Risk } from '../core/controls';
import { exemptionOf } from '../core/exemptions';
import type { Finding, ResourceRef } from '../core/finding';
import type { FixLedger } from '../core/fix-budget';
import type { LastKnownGoodStore } from '../core/last-known-good';
import { resourceKey, type ResourceKey } from '../core/resource-key';
import type { RemediationResult } from '../core/outcome';
import type { Policy } from '../core/policy';
import { refFromArn } from '../core/resources';
import { observeLive } from '../detectors/observe';
import { describeFailure, REMEDIATION_ERRORS } from './failures';

/** What a remediation needs besides the finding; time is injected so tests are deterministic. */
export interface RemediationContext {
  /** The registered controls (controls/index.ts): the finding's control is looked up here. */
  controls: readonly Control[];
  policy: Policy;
  clients: AwsClients;
  lastKnownGood: LastKnownGoodStore;
  fixes: FixLedger;
  clock: () => Date;
  /** Reads after a fix may lag (WAF associations take seconds to minutes): how often to re-read. Default 5. */
  verifyAttempts?: number;
  /** Delay between re-reads, doubled each time. Default 2,000 ms. */
  verifyDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /**
   * The account the credentials act in, when known: a finding of another account is refused,
   * never moved to this one (a hub passes the member account's clients, assumed for the finding).
   */
  account?: string;
}

function controlOf(finding: Finding, ctx: RemediationContext): Control {
  const control = ctx.controls.find((c) => c.id === finding.control);
  if (!control) throw new TypeError(`no control ${finding.control} is registered`);
  return control;
}

/** The finding's resource, parsed by its control's kinds, with the region and owner the finding carries. */
export function refOf(finding: Finding, control: Control): ResourceRef {
  const ref = refFromArn(finding.resourceArn, control.resources, finding.account);
  if (!ref) throw new TypeError(`not a resource ${finding.control} guards: ${finding.resourceArn}`);
  // some ARNs (S3) carry no region: the finding's says where the resource is
  return ref.region === undefined && finding.region !== undefined ? { ...ref, region: finding.region } : ref;
}

/** Why this context may not fix the finding: it is of another account than the credentials act in. */
function accountRefusal(finding: Finding, ctx: RemediationContext, change: Change | null): RemediationResult | undefined {
  if (!ctx.account || !finding.account || finding.account === ctx.account) return undefined;
  return result(finding, {
    outcome: 'failed',
    change,
    reason: `refused: the finding is in account ${finding.account}, the guard acts in ${ctx.account}; a fix is made only in the guard's own account`,
  });
}

function controlPolicy(finding: Finding, policy: Policy) {
  const p = policy.controls[finding.control];
  if (!p) throw new TypeError(`control ${finding.control} is not enabled in the policy`);
  return p;
}

const result = (finding: Finding, rest: Omit<RemediationResult, 'control' | 'resourceArn'>): RemediationResult => ({
  control: finding.control,
  resourceArn: finding.resourceArn,
  ...rest,
});

/**
 * What the finding's restore point and fix budget are kept by: its control, its resource and
 * the account the finding carries. A finding that does not say its account (an offline replay)
 * is fixed where the credentials act, if at all (`accountRefusal`): its budget is that account's.
 */
function keyOf(finding: Finding, ctx: RemediationContext): ResourceKey {
  return resourceKey(finding.control, { arn: finding.resourceArn, account: finding.account ?? ctx.account });
}

/** A restore point, best effort: one that cannot be written never turns a fix (or a compliant read) into a failure. */
async function keepLastKnownGood(ctx: RemediationContext, key: ResourceKey, state: unknown): Promise<void> {
  await ctx.lastKnownGood.put(key, state, ctx.clock()).catch(() => undefined);
}

export type PlanStep = { done: RemediationResult } | { change: Change; risk: Risk };

/**
 * Read → exempt? → compliant? → fix budget → plan. Ends early with an outcome when there is
 * nothing to apply. Never writes.
 */
export async function planRemediation(finding: Finding, ctx: RemediationContext): Promise<PlanStep> {
  const refused = accountRefusal(finding, ctx, null);
  if (refused) return { done: refused };
  const control = controlOf(finding, ctx);
  const { detector, remediator } = control;
  const policy = controlPolicy(finding, ctx.policy);
  const ref = refOf(finding, control);
  const key = keyOf(finding, ctx);
  const observation = await observeLive(detector, ref, ctx.policy, ctx.clients);
  if (observation.status === 'gone')
    return { done: result(finding, { outcome: 'resource-gone', change: null, reason: observation.reason }) };
  const exempt = exemptionOf(ref.arn, observation.status === 'known' ? observation.tags : undefined, ctx.policy.exemptions, ctx.clock());
  if (exempt) return { done: result(finding, { outcome: 'exempt', change: null, reason: `exempt: ${exempt}` }) };
  if (observation.status !== 'known') return { done: result(finding, { outcome: 'failed', change: null, reason: observation.reason }) };
  const evaluation = detector.evaluate(observation.state, policy, ref);
  if (evaluation.status === 'compliant') {
    await keepLastKnownGood(ctx, key, observation.state);
    return {
      done: result(finding, { outcome: 'already-compliant', change: null, reason: 'the resource already complies with the policy' }),
    };
  }
  if (evaluation.status === 'unknown') return { done: result(finding, { outcome: 'failed', change: null, reason: evaluation.reason }) };
  const windowStart = new Date(ctx.clock().getTime() - ctx.policy.fixBudget.windowMinutes * 60_000);
  const fixes = await ctx.fixes.fixesSince(key, windowStart);
  // an early stop, before anyone is asked to approve: the atomic check is the apply's
  if (fixes >= ctx.policy.fixBudget.maxFixes) return { done: loopSuspected(finding, fixes, ctx, null) };
  const lastKnownGood = await ctx.lastKnownGood.get(key);
  const plan = remediator.plan(finding, observation.state, policy, lastKnownGood);
  if (plan.change === null) return { done: result(finding, { outcome: 'failed', change: null, reason: plan.reason }) };
  return { change: plan.change, risk: remediator.risk(finding, policy, plan.change) };
}

function loopSuspected(finding: Finding, fixes: number, ctx: RemediationContext, change: Change | null): RemediationResult {
  return result(finding, {
    outcome: 'loop-suspected',
    change,
    reason: `fixed ${fixes} times in the last ${ctx.policy.fixBudget.windowMinutes} minutes: something keeps undoing the fix; a human must look`,
  });
}

/**
 * Sends the change, after checking it writes to the finding's own resource. The fix is counted
 * against the budget first, in one atomic step that refuses it when the budget is spent (two
 * racing applies cannot both take the last fix); a write that fails gives it back.
 * An error of the budget's own store is thrown: nothing was written.
 */
export async function applyChange(finding: Finding, change: Change, ctx: RemediationContext): Promise<RemediationResult | undefined> {
  const refused = accountRefusal(finding, ctx, change);
  if (refused) return refused;
  const control = controlOf(finding, ctx);
  const { remediator } = control;
  // every call of the fix, follow-ups included, is declared and writes to the finding's resource
  for (const step of stepsOf(change)) {
    if (!permissionOf(remediator, step)) {
      return result(finding, { outcome: 'failed', change, reason: `refused: ${finding.control} does not make ${step.operation} calls` });
    }
    const target = remediator.targetOf(step);
    if (target !== finding.resourceArn) {
      return result(finding, {
        outcome: 'failed',
        change,
        reason: `refused: the change writes to ${target}, not to the finding's ${finding.resourceArn}`,
      });
    }
  }
  const key = keyOf(finding, ctx);
  const at = ctx.clock();
  const spent = await ctx.fixes.spend(key, at, ctx.policy.fixBudget);
  if (!spent.granted) return loopSuspected(finding, spent.fixes, ctx, null);
  try {
    await remediator.apply(change, ctx.clients);
  } catch (error) {
    const failure = describeFailure(error, change, control);
    // a fix partly made was a write: it stays counted. An over-count errs toward asking a
    // human: a refund that fails is not the fix's failure
    if (failure.errorCode !== REMEDIATION_ERRORS.partlyApplied) await ctx.fixes.refund(key, at).catch(() => undefined);
    return result(finding, { change, ...failure });
  }
  return undefined;
}

/** Re-reads until the resource complies (or the attempts run out); a compliant read feeds last-known-good. */
export async function verifyChange(finding: Finding, change: Change, ctx: RemediationContext): Promise<RemediationResult> {
  const control = controlOf(finding, ctx);
  const { remediator } = control;
  const policy = controlPolicy(finding, ctx.policy);
  const ref = refOf(finding, control);
  const attempts = ctx.verifyAttempts ?? 5;
  const sleep = ctx.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let delay = ctx.verifyDelayMs ?? 2_000;
  let last = { compliant: false, reason: 'not verified' } as Awaited<ReturnType<typeof remediator.verify>>;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      last = await remediator.verify(ref, ctx.clients, policy, change);
    } catch (error) {
      const failure = describeFailure(error, change, control, 'read');
      return result(finding, { change, ...failure, reason: `${change.operation} was applied; ${failure.reason}` });
    }
    if (last.compliant) {
      await keepLastKnownGood(ctx, keyOf(finding, ctx), last.state);
      return result(finding, {
        outcome: 'remediated',
        change,
        reason: `${change.operation} applied and verified`,
        verifiedState: last.state,
      });
    }
    if (attempt < attempts) {
      await sleep(delay);
      delay *= 2;
    }
  }
  return result(finding, {
    outcome: 'failed',
    errorCode: 'VerifyMismatch',
    change,
    reason: `${change.operation} was applied but the resource does not read back compliant: ${last.reason ?? 'unknown'}`,
    verifiedState: last.state,
  });
}

/**
 * The whole fix of one finding, for the CLI (the workflow runs the same steps as tasks, with
 * an approval between plan and apply): read → plan → apply → verify.
 *
 * @example const outcome = await remediate(finding, { controls: CONTROLS, policy, clients, lastKnownGood, fixes, clock: () => new Date() })
 */
export async function remediate(finding: Finding, ctx: RemediationContext): Promise<RemediationResult> {
  const step = await planRemediation(finding, ctx);
  if ('done' in step) return step.done;
  const failure = await applyChange(finding, step.change, ctx);
  if (failure) return failure;
  return verifyChange(finding, step.change, ctx);
}
