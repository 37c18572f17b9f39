import type { Stage } from '@aws-sdk/client-api-gateway';
import * as z from 'zod/mini';
import type { AwsClients } from '../core/aws';
import { lazySchema, type Detector, type Observation } from '../core/control';
import type { RampartEvent } from '../core/events';
import type { Evaluation, ResourceRef } from '../core/finding';
import { requestBody } from './apigateway-records';
import { restApiStage } from './apigateway-resources';
import {
  EVERY_METHOD,
  GET_STAGE_PERMISSION,
  LIST_STAGES_PERMISSION,
  STAGE_TRIGGER,
  booleanOf,
  getStage,
  methodSettingPatches,
  stageFieldPatches,
  stagePatchOf,
  stageStateFromConfig,
  stagesOfEvent,
} from './apigateway-stage-settings';
import { listRestStages } from './apigateway-waf';
import { riskSchema } from './policy-fields';

/** The control's slice of the policy (`controls.apigateway-cache-encryption`): nothing to choose but the risk. */
export const cacheEncryptionPolicySchema = lazySchema(() => {
  return z.strictObject({
    // encrypting the cache changes no response
    risk: riskSchema('low'),
  });
});

export type CacheEncryptionPolicy = z.infer<ReturnType<typeof cacheEncryptionPolicySchema>>;

/** One method setting's caching, as far as it is known. */
export interface MethodCaching {
  cachingEnabled?: boolean;
  cacheDataEncrypted?: boolean;
}

/** A stage's cache: the cluster, and the caching of `*\/*` and of each method override. */
export interface CacheEncryptionState {
  cacheClusterEnabled?: boolean;
  methods: Record<string, MethodCaching>;
  /** The whole stage (GetStage, Config, CreateStage): a member not given is API Gateway's default, off. */
  complete: boolean;
}

/** A whole stage's cache (GetStage, a Config item). */
export function cacheOfStage(stage: Stage): CacheEncryptionState {
  const methods: Record<string, MethodCaching> = {};
  for (const [key, s] of Object.entries(stage.methodSettings ?? {}))
    methods[key] = { cachingEnabled: s.cachingEnabled === true, cacheDataEncrypted: s.cacheDataEncrypted === true };
  return { cacheClusterEnabled: stage.cacheClusterEnabled === true, methods, complete: true };
}

/** What an UpdateStage patch reveals of the cache; `undefined` when it touches none of it. */
export function cacheFromPatch(record: Parameters<typeof stagePatchOf>[0]): CacheEncryptionState | undefined {
  const ops = stagePatchOf(record);
  const state: CacheEncryptionState = { methods: {}, complete: false };
  let touched = false;
  const cluster = stageFieldPatches(ops).get('cacheClusterEnabled');
  if (cluster !== undefined) {
    touched = true;
    const on = cluster === null ? false : booleanOf(cluster);
    if (on !== undefined) state.cacheClusterEnabled = on;
  }
  for (const patch of methodSettingPatches(ops)) {
    const field =
      patch.setting === 'caching/enabled' ? 'cachingEnabled' : patch.setting === 'caching/dataEncrypted' ? 'cacheDataEncrypted' : undefined;
    if (!field) continue;
    touched = true;
    const on = patch.value === null ? false : booleanOf(patch.value);
    if (on !== undefined) (state.methods[patch.key] ??= {})[field] = on;
  }
  return touched ? state : undefined;
}

/**
 * Pure: where the stage cache is on, `*\/*` encrypts cached responses, and so does every method
 * override that caches. A stage without a cache cluster caches nothing: compliant.
 */
export function evaluateCacheEncryption(state: CacheEncryptionState): Evaluation {
  if (state.cacheClusterEnabled === false) return { status: 'compliant' };
  const problems: string[] = [];
  const unknown: string[] = [];
  const unencrypted: string[] = [];
  const defaults = state.complete ? { cachingEnabled: false, cacheDataEncrypted: false } : {};
  const every = { ...defaults, ...state.methods[EVERY_METHOD] };
  if (every.cacheDataEncrypted === undefined) unknown.push('stage-wide cache encryption');
  else if (!every.cacheDataEncrypted) {
    problems.push('cached responses of the stage (*/*) are not encrypted');
    unencrypted.push(EVERY_METHOD);
  }
  for (const [key, setting] of Object.entries(state.methods)) {
    if (key === EVERY_METHOD) continue;
    const s = { ...defaults, ...setting };
    if (s.cachingEnabled === false || s.cacheDataEncrypted === true) continue;
    if (s.cachingEnabled === true && s.cacheDataEncrypted === false) {
      problems.push(`cached responses of ${key} are not encrypted`);
      unencrypted.push(key);
    } else unknown.push(`caching of ${key}`);
  }
  if (state.cacheClusterEnabled === undefined) {
    // with the cluster off nothing is cached, whatever the method settings say
    return { status: 'unknown', reason: 'the event does not reveal whether the stage cache is enabled' };
  }
  if (problems.length > 0)
    return {
      status: 'violation',
      observed: { cacheClusterEnabled: true, unencrypted },
      desired: { cacheDataEncrypted: true },
      reason: problems.join('; '),
    };
  if (unknown.length > 0) return { status: 'unknown', reason: `the event does not reveal the ${unknown.join(', ')}` };
  return { status: 'compliant' };
}

function stateFromRecord(event: Extract<RampartEvent, { kind: 'cloudtrail' }>): Observation<CacheEncryptionState> {
  const record = event.record;
  switch (record.eventName) {
    case 'CreateStage': {
      // CreateStage takes no method settings: a new stage's cache, if any, is not encrypted
      const cluster = booleanOf(requestBody(record, 'createStageInput').cacheClusterEnabled) ?? false;
      return { status: 'known', state: cacheOfStage({ cacheClusterEnabled: cluster }) };
    }
    case 'UpdateStage': {
      const state = cacheFromPatch(record);
      if (state) return { status: 'known', state };
      const paths =
        stagePatchOf(record)
          .map((o) => o.path)
          .join(', ') || 'nothing';
      return { status: 'unknown', reason: `UpdateStage patches ${paths}; the cache settings are not in the event` };
    }
    default:
      return { status: 'unknown', reason: `${record.eventName} may target an existing stage; its cache settings are not in the event` };
  }
}

export const apigatewayCacheEncryption: Detector<CacheEncryptionState, CacheEncryptionPolicy, 'apigateway-cache-encryption'> = {
  id: 'apigateway-cache-encryption',
  title: 'REST API stages with a cache encrypt the cached responses',
  severity: 'medium',
  securityHubControls: ['APIGateway.5'],
  resources: [restApiStage],
  get policySchema() {
    return cacheEncryptionPolicySchema();
  },
  triggers: { cloudTrail: [STAGE_TRIGGER], configResourceTypes: ['AWS::ApiGateway::Stage'] },

  resourcesFrom: stagesOfEvent,

  stateFrom(event: RampartEvent): Observation<CacheEncryptionState> {
    return event.kind === 'cloudtrail' ? stateFromRecord(event) : stageStateFromConfig(event, cacheOfStage);
  },

  async readState(ref: ResourceRef, clients: AwsClients): Promise<Observation<CacheEncryptionState>> {
    const stage = await getStage(ref, clients);
    if (!stage) return { status: 'gone', reason: `stage ${ref.arn} does not exist` };
    return { status: 'known', state: cacheOfStage(stage), tags: stage.tags ?? {} };
  },
  readPermissions: [GET_STAGE_PERMISSION],

  evaluate: (state) => evaluateCacheEncryption(state),

  list: listRestStages,
  listPermissions: [LIST_STAGES_PERMISSION],
};
