import { sendChange } from './send-change';
import type { PatchOperation, UpdateStageCommandInput, UpdateUsagePlanCommandInput } from '@aws-sdk/client-api-gateway';
import { lazyModule } from '../core/sdk';
import type { Plan, Remediator } from '../core/control';
import type { Finding } from '../core/finding';
import { restApiStage, stageRef, usagePlan, usagePlanRef } from '../detectors/apigateway-resources';
import {
  STAGE_WIDE,
  apigatewayThrottling,
  evaluateThrottling,
  type Limit,
  type ThrottleLimits,
  type ThrottlingPolicy,
  type ThrottlingState,
} from '../detectors/apigateway-throttling';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const apiGateway = lazyModule(() => require('@aws-sdk/client-api-gateway') as typeof import('@aws-sdk/client-api-gateway'));

/**
 * The value to set for one limit, or `undefined` to leave it: only a limit that is unset or
 * above the maximum changes; it goes back to the last known good value when that is within
 * the maximum, else to the maximum. A lower (tighter) value is never raised.
 */
function target(current: Limit, max: number, lastKnownGood: Limit, requireSet: boolean): number | undefined {
  if (current === undefined) return undefined; // not known: never write blind
  if (current === null && !requireSet) return undefined;
  if (current !== null && current <= max) return undefined;
  const restore = typeof lastKnownGood === 'number' && lastKnownGood <= max ? lastKnownGood : max;
  return current === null ? restore : Math.min(restore, current);
}

const replace = (path: string, value: number): PatchOperation => ({ op: 'replace', path, value: String(value) });

function limitOps(
  prefix: string,
  current: ThrottleLimits,
  lkg: ThrottleLimits | undefined,
  rate: number,
  burst: number,
  requireSet: boolean,
): PatchOperation[] {
  const ops: PatchOperation[] = [];
  const r = target(current.rateLimit, rate, lkg?.rateLimit, requireSet);
  const b = target(current.burstLimit, burst, lkg?.burstLimit, requireSet);
  if (r !== undefined) ops.push(replace(`${prefix}/rateLimit`, r));
  if (b !== undefined) ops.push(replace(`${prefix}/burstLimit`, b));
  return ops;
}

/** Pure: the UpdateStage / UpdateUsagePlan patch that brings the limits within the policy. */
export function planThrottling(finding: Finding, state: ThrottlingState, policy: ThrottlingPolicy, lastKnownGood?: ThrottlingState): Plan {
  if (evaluateThrottling(state, policy).status === 'compliant') return { change: null, reason: 'the limits are already within the policy' };
  const stage = restApiStage.arn.parse(finding.resourceArn);
  const planRef = usagePlan.arn.parse(finding.resourceArn);
  if (state.kind === 'stage' && stage) {
    const lkg = lastKnownGood?.kind === 'stage' ? lastKnownGood.methods : undefined;
    const stageWide = state.methods[STAGE_WIDE] ?? (state.complete ? { rateLimit: null, burstLimit: null } : {});
    const ops = limitOps(`/${STAGE_WIDE}/throttling`, stageWide, lkg?.[STAGE_WIDE], policy.rateLimit, policy.burstLimit, true);
    for (const [key, limits] of Object.entries(state.methods)) {
      if (key !== STAGE_WIDE) ops.push(...limitOps(`/${key}/throttling`, limits, lkg?.[key], policy.rateLimit, policy.burstLimit, false));
    }
    if (ops.length === 0) return { change: null, reason: 'the event does not reveal which limits to restore' };
    const input: UpdateStageCommandInput = { restApiId: stage.restApiId, stageName: stage.stageName, patchOperations: ops };
    return {
      change: { service: 'apigateway', operation: 'UpdateStage', region: stage.region, input: input as unknown as Record<string, unknown> },
    };
  }
  if (state.kind === 'usage-plan' && planRef) {
    const lkg = lastKnownGood?.kind === 'usage-plan' ? lastKnownGood : undefined;
    const throttle = state.complete ? { rateLimit: null, burstLimit: null, ...state.throttle } : state.throttle;
    const rate = policy.usagePlans.rateLimit ?? policy.rateLimit;
    const burst = policy.usagePlans.burstLimit ?? policy.burstLimit;
    const ops = limitOps('/throttle', throttle, lkg?.throttle, rate, burst, true);
    if (policy.usagePlans.quotaLimit !== undefined) {
      const quota = state.complete ? (state.quotaLimit ?? null) : state.quotaLimit;
      const q = target(quota, policy.usagePlans.quotaLimit, lkg?.quotaLimit, true);
      if (q !== undefined) {
        ops.push(replace('/quota/limit', q));
        // a plan without any quota needs its period too
        if (quota === null) ops.push({ op: 'replace', path: '/quota/period', value: policy.usagePlans.quotaPeriod });
      }
    }
    if (ops.length === 0) return { change: null, reason: 'the event does not reveal which limits to restore' };
    const input: UpdateUsagePlanCommandInput = { usagePlanId: planRef.usagePlanId, patchOperations: ops };
    return {
      change: {
        service: 'apigateway',
        operation: 'UpdateUsagePlan',
        region: planRef.region,
        input: input as unknown as Record<string, unknown>,
      },
    };
  }
  return { change: null, reason: `${finding.resourceArn} is not a REST API stage or usage plan` };
}

export const apigatewayThrottlingRemediator: Remediator<ThrottlingState, ThrottlingPolicy, 'apigateway-throttling'> = {
  id: 'apigateway-throttling',
  defaultRisk: 'high',
  risk: (_finding, policy) => policy.risk,
  plan: planThrottling,

  async apply(change, clients) {
    const sdk = apiGateway();
    await sendChange(sdk, sdk.APIGatewayClient, change, clients, Object.keys(apigatewayThrottlingRemediator.permissions));
  },

  async verify(ref, clients, policy) {
    const observation = await apigatewayThrottling.readState(ref, clients);
    if (observation.status !== 'known')
      return { compliant: false, reason: observation.status === 'gone' ? observation.reason : 'state unreadable' };
    const evaluation = evaluateThrottling(observation.state, policy);
    return evaluation.status === 'compliant'
      ? { compliant: true, state: observation.state }
      : { compliant: false, state: observation.state, reason: evaluation.reason };
  },

  targetOf(change) {
    const input = change.input as { restApiId?: string; stageName?: string; usagePlanId?: string };
    if (change.operation === 'UpdateStage') return stageRef(change.region, String(input.restApiId), String(input.stageName)).arn;
    return usagePlanRef(change.region, String(input.usagePlanId)).arn;
  },

  permissions: {
    // API Gateway's IAM actions are HTTP verbs on resource paths
    UpdateStage: { actions: ['apigateway:PATCH'], resources: ['arn:${Partition}:apigateway:${Region}::/restapis/*/stages/*'] },
    UpdateUsagePlan: { actions: ['apigateway:PATCH'], resources: ['arn:${Partition}:apigateway:${Region}::/usageplans/*'] },
  },
};
