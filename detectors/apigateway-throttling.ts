import type { MethodSetting, ThrottleSettings } from '@aws-sdk/client-api-gateway';
import * as z from 'zod/mini';
import { lazyModule } from '../core/sdk';
import type { AwsClients } from '../core/aws';
import { lazySchema, type Detector, type Observation } from '../core/control';
import type { RampartEvent } from '../core/events';
import type { Evaluation, ResourceRef } from '../core/finding';
import { restApiStage, usagePlan, usagePlanRef } from './apigateway-resources';
import {
  isRestApiRecord,
  patchOperationsOf,
  requestBody,
  stageFromRecord,
  usagePlanFromRecord,
  type PatchOperation,
} from './apigateway-records';
import { listRestStages } from './apigateway-waf';
import { configObservation, refFromConfigEvent } from './config-events';
import { awsErrorName } from './aws-errors';
import { asObject, type Json } from './json';
import { riskSchema } from './policy-fields';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const apiGateway = lazyModule(() => require('@aws-sdk/client-api-gateway') as typeof import('@aws-sdk/client-api-gateway'));

/** The control's slice of the policy (`controls.apigateway-throttling`). */
export const throttlingPolicySchema = lazySchema(() => {
  const limit = z.number().check(z.nonnegative());
  const count = z.int().check(z.nonnegative());
  return z.strictObject({
    /** Maximum steady-state requests per second for a stage's default method throttling (`*\/*`). */
    rateLimit: limit,
    /** Maximum burst for a stage's default method throttling. */
    burstLimit: count,
    /** Maxima for usage plans; each defaults to the stage value. */
    usagePlans: z._default(
      z.strictObject({
        rateLimit: z.optional(limit),
        burstLimit: z.optional(count),
        /** Maximum request quota per period; unset = quotas not checked. */
        quotaLimit: z.optional(z.int().check(z.positive())),
        /** The period of a quota Rampart adds to a plan that has none. */
        quotaPeriod: z._default(z.enum(['DAY', 'WEEK', 'MONTH']), 'MONTH'),
      }),
      { quotaPeriod: 'MONTH' },
    ),
    // tightening limits can reject live traffic: a human approves by default
    risk: riskSchema('high'),
  });
});

export type ThrottlingPolicy = z.infer<ReturnType<typeof throttlingPolicySchema>>;

/**
 * A limit as far as it is known: a number; `null` when not set (the next layer up applies:
 * stage default, then the account's 10,000 rps / 5,000 burst); `undefined` when the event
 * does not reveal it.
 */
export type Limit = number | null | undefined;

export interface ThrottleLimits {
  rateLimit?: Limit;
  burstLimit?: Limit;
}

/** The stage-wide method settings key; per-method keys look like `~1pets/GET`. */
export const STAGE_WIDE = '*/*';

export type ThrottlingState =
  | { kind: 'stage'; methods: Record<string, ThrottleLimits>; complete: boolean }
  | { kind: 'usage-plan'; throttle: ThrottleLimits; quotaLimit?: Limit; complete: boolean };

/** A limit as AWS reports it: JSON number in bodies, string in patches; negative means "no limit". */
function limitOf(value: unknown): Limit {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (Number.isNaN(n)) return undefined;
  return n < 0 ? null : n;
}

const METHOD_THROTTLE_PATH = /^\/([^/]+)\/([^/]+)\/throttling\/(rateLimit|burstLimit)$/;

/** The method throttling an UpdateStage patch reveals, or `undefined` when it touches none. */
export function methodsFromPatch(ops: PatchOperation[]): Record<string, ThrottleLimits> | undefined {
  const methods: Record<string, ThrottleLimits> = {};
  let touched = false;
  for (const op of ops) {
    const m = METHOD_THROTTLE_PATH.exec(op.path);
    if (!m) continue;
    touched = true;
    const key = `${m[1]}/${m[2]}`;
    const field = m[3] as 'rateLimit' | 'burstLimit';
    (methods[key] ??= {})[field] = op.op === 'remove' ? null : limitOf(op.value);
  }
  return touched ? methods : undefined;
}

/** The usage plan throttle and quota an UpdateUsagePlan patch reveals, or `undefined` when it touches none. */
export function usagePlanFromPatch(ops: PatchOperation[]): Extract<ThrottlingState, { kind: 'usage-plan' }> | undefined {
  const throttle: ThrottleLimits = {};
  let quotaLimit: Limit;
  let touched = false;
  for (const op of ops) {
    const value = op.op === 'remove' ? null : limitOf(op.value);
    switch (op.path) {
      case '/throttle':
        if (op.op === 'remove') Object.assign(throttle, { rateLimit: null, burstLimit: null });
        touched = true;
        break;
      case '/throttle/rateLimit':
        throttle.rateLimit = value;
        touched = true;
        break;
      case '/throttle/burstLimit':
        throttle.burstLimit = value;
        touched = true;
        break;
      case '/quota':
        if (op.op === 'remove') quotaLimit = null;
        touched = true;
        break;
      case '/quota/limit':
        quotaLimit = value;
        touched = true;
        break;
    }
  }
  return touched ? { kind: 'usage-plan', throttle, quotaLimit, complete: false } : undefined;
}

/** Method settings as the SDK (GetStage) and AWS Config render them. */
export function methodsFromSettings(settings: Record<string, MethodSetting> | Json | undefined): Record<string, ThrottleLimits> {
  const methods: Record<string, ThrottleLimits> = {};
  for (const [key, setting] of Object.entries(settings ?? {})) {
    const s = setting as Json;
    methods[key] = { rateLimit: limitOf(s.throttlingRateLimit) ?? null, burstLimit: limitOf(s.throttlingBurstLimit) ?? null };
  }
  return methods;
}

function throttleFrom(throttle: ThrottleSettings | Json | undefined): ThrottleLimits {
  const t = (throttle ?? {}) as Json;
  return { rateLimit: limitOf(t.rateLimit) ?? null, burstLimit: limitOf(t.burstLimit) ?? null };
}

interface Check {
  problems: string[];
  unknown: string[];
}

function checkLimit(check: Check, label: string, value: Limit, max: number, requireSet: boolean, unit: string): void {
  if (value === undefined) check.unknown.push(label);
  else if (value === null) {
    if (requireSet) check.problems.push(`${label} is not set`);
  } else if (value > max) check.problems.push(`${label} ${value} ${unit} is above the maximum ${max}`);
}

function known(limits: ThrottleLimits): Json {
  return Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined));
}

/**
 * Pure: are the limits set and at most the policy maxima? Stage: the stage-wide `*\/*` rate and
 * burst must be set; per-method overrides may be unset but never above the maxima. Usage plan:
 * throttle set and within, and the quota when the policy caps it.
 */
export function evaluateThrottling(state: ThrottlingState, policy: ThrottlingPolicy): Evaluation {
  const check: Check = { problems: [], unknown: [] };
  let observed: Json;
  let desired: Json;
  if (state.kind === 'stage') {
    desired = { rateLimit: policy.rateLimit, burstLimit: policy.burstLimit };
    const stageWide = state.methods[STAGE_WIDE] ?? (state.complete ? { rateLimit: null, burstLimit: null } : {});
    checkLimit(check, 'stage rate limit', stageWide.rateLimit, policy.rateLimit, true, 'rps');
    checkLimit(check, 'stage burst limit', stageWide.burstLimit, policy.burstLimit, true, 'requests');
    const overrides: Json = {};
    for (const [key, limits] of Object.entries(state.methods)) {
      if (key === STAGE_WIDE) continue;
      const before = check.problems.length;
      if (typeof limits.rateLimit === 'number')
        checkLimit(check, `method ${key} rate limit`, limits.rateLimit, policy.rateLimit, false, 'rps');
      if (typeof limits.burstLimit === 'number')
        checkLimit(check, `method ${key} burst limit`, limits.burstLimit, policy.burstLimit, false, 'requests');
      if (check.problems.length > before) overrides[key] = known(limits);
    }
    observed = { ...known(stageWide), ...(Object.keys(overrides).length > 0 ? { methods: overrides } : {}) };
  } else {
    const rate = policy.usagePlans.rateLimit ?? policy.rateLimit;
    const burst = policy.usagePlans.burstLimit ?? policy.burstLimit;
    desired = { rateLimit: rate, burstLimit: burst };
    const throttle = state.complete ? { rateLimit: null, burstLimit: null, ...state.throttle } : state.throttle;
    checkLimit(check, 'usage plan rate limit', throttle.rateLimit, rate, true, 'rps');
    checkLimit(check, 'usage plan burst limit', throttle.burstLimit, burst, true, 'requests');
    observed = known(throttle);
    if (policy.usagePlans.quotaLimit !== undefined) {
      desired.quotaLimit = policy.usagePlans.quotaLimit;
      const quota = state.complete ? (state.quotaLimit ?? null) : state.quotaLimit;
      checkLimit(check, 'usage plan quota', quota, policy.usagePlans.quotaLimit, true, 'requests');
      if (quota !== undefined) observed.quotaLimit = quota;
    }
  }
  if (check.problems.length > 0) return { status: 'violation', observed, desired, reason: check.problems.join('; ') };
  if (check.unknown.length > 0) return { status: 'unknown', reason: `the event does not reveal the ${check.unknown.join(', ')}` };
  return { status: 'compliant' };
}

function stateFromCloudTrail(event: Extract<RampartEvent, { kind: 'cloudtrail' }>): Observation<ThrottlingState> {
  const record = event.record;
  switch (record.eventName) {
    case 'CreateStage':
      // CreateStage takes no method settings: a new stage starts unthrottled (account limits only)
      return { status: 'known', state: { kind: 'stage', methods: {}, complete: true } };
    case 'UpdateStage': {
      const ops = patchOperationsOf(record, 'updateStageInput');
      const methods = methodsFromPatch(ops);
      if (methods) return { status: 'known', state: { kind: 'stage', methods, complete: false } };
      const paths = ops.map((o) => o.path).join(', ') || 'nothing';
      return { status: 'unknown', reason: `UpdateStage patches ${paths}; the throttling is not in the event` };
    }
    case 'CreateUsagePlan': {
      const body = requestBody(record, 'createUsagePlanInput');
      const quota = asObject(body.quota);
      return {
        status: 'known',
        state: {
          kind: 'usage-plan',
          throttle: throttleFrom(asObject(body.throttle)),
          quotaLimit: quota ? (limitOf(quota.limit) ?? null) : null,
          complete: true,
        },
      };
    }
    case 'UpdateUsagePlan': {
      const ops = patchOperationsOf(record, 'updateUsagePlanInput');
      const state = usagePlanFromPatch(ops);
      if (state) return { status: 'known', state };
      const paths = ops.map((o) => o.path).join(', ') || 'nothing';
      return { status: 'unknown', reason: `UpdateUsagePlan patches ${paths}; the throttle is not in the event` };
    }
    default:
      return { status: 'unknown', reason: `${record.eventName} may target an existing stage; its throttling is not in the event` };
  }
}

export const apigatewayThrottling: Detector<ThrottlingState, ThrottlingPolicy, 'apigateway-throttling'> = {
  id: 'apigateway-throttling',
  title: 'REST API stages and usage plans have throttling within the policy maxima',
  severity: 'medium',
  resources: [restApiStage, usagePlan],
  get policySchema() {
    return throttlingPolicySchema();
  },
  triggers: {
    cloudTrail: [
      {
        source: 'aws.apigateway',
        eventSource: 'apigateway.amazonaws.com',
        eventNames: ['CreateStage', 'UpdateStage', 'CreateDeployment', 'CreateUsagePlan', 'UpdateUsagePlan'],
      },
    ],
    // AWS Config records no usage plans: those are seen through CloudTrail and the sweep only
    configResourceTypes: ['AWS::ApiGateway::Stage'],
  },

  resourcesFrom(event: RampartEvent): ResourceRef[] {
    if (event.kind === 'cloudtrail') {
      const record = event.record;
      if (record.eventName === 'CreateUsagePlan' || record.eventName === 'UpdateUsagePlan') {
        const ref = usagePlanFromRecord(record);
        return ref ? [ref] : [];
      }
      if (!isRestApiRecord(record)) return [];
      const ref = stageFromRecord(record);
      return ref ? [ref] : [];
    }
    return refFromConfigEvent(event, restApiStage) ?? [];
  },

  stateFrom(event: RampartEvent): Observation<ThrottlingState> {
    if (event.kind === 'cloudtrail') return stateFromCloudTrail(event);
    const fromConfig = configObservation<ThrottlingState>(event, 'stage', (item) => {
      const config = asObject(item.configuration);
      if (!config) return { status: 'unknown', reason: 'Config item carries no configuration' };
      return { status: 'known', state: { kind: 'stage', methods: methodsFromSettings(asObject(config.methodSettings)), complete: true } };
    });
    return fromConfig ?? { status: 'unknown', reason: 'event does not concern API Gateway' };
  },

  async readState(ref: ResourceRef, clients: AwsClients): Promise<Observation<ThrottlingState>> {
    try {
      if (restApiStage.is(ref)) {
        const out = await clients
          .get(apiGateway().APIGatewayClient, ref.region)
          .send(new (apiGateway().GetStageCommand)({ restApiId: ref.restApiId, stageName: ref.stageName }));
        return {
          status: 'known',
          state: { kind: 'stage', methods: methodsFromSettings(out.methodSettings), complete: true },
          tags: out.tags,
        };
      }
      if (usagePlan.is(ref)) {
        const out = await clients
          .get(apiGateway().APIGatewayClient, ref.region)
          .send(new (apiGateway().GetUsagePlanCommand)({ usagePlanId: ref.usagePlanId }));
        return {
          status: 'known',
          state: {
            kind: 'usage-plan',
            throttle: throttleFrom(out.throttle),
            quotaLimit: out.quota ? (limitOf(out.quota.limit) ?? null) : null,
            complete: true,
          },
          tags: out.tags,
        };
      }
    } catch (error) {
      if (usagePlan.notFoundCodes.includes(awsErrorName(error) ?? '')) return { status: 'gone', reason: `${ref.arn} does not exist` };
      throw error;
    }
    throw new TypeError(`not a stage or usage plan: ${ref.arn}`);
  },

  /** What `readState` (and `resolveState`) call: the detector, the sweep and remediation are granted these. */
  readPermissions: [
    {
      actions: ['apigateway:GET'],
      resources: ['arn:${Partition}:apigateway:${Region}::/restapis/*/stages/*', 'arn:${Partition}:apigateway:${Region}::/usageplans/*'],
    },
  ],

  evaluate: (state, policy) => evaluateThrottling(state, policy),

  listPermissions: [
    {
      actions: ['apigateway:GET'],
      resources: [
        'arn:${Partition}:apigateway:${Region}::/restapis',
        'arn:${Partition}:apigateway:${Region}::/restapis/*/stages',
        'arn:${Partition}:apigateway:${Region}::/usageplans',
      ],
    },
  ],

  async *list(clients: AwsClients): AsyncIterable<ResourceRef> {
    yield* listRestStages(clients);
    for (const region of clients.regions) {
      for await (const page of apiGateway().paginateGetUsagePlans(
        { client: clients.get(apiGateway().APIGatewayClient, region) },
        { limit: 500 },
      )) {
        for (const plan of page.items ?? []) if (plan.id) yield usagePlanRef(region, plan.id);
      }
    }
  },
};
