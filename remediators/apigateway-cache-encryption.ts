import { applyStageUpdate, STAGE_UPDATE_PERMISSIONS, stageTargetOf, stageUpdate, verificationOf } from './stage-update';
import type { PatchOperation, UpdateStageCommandInput } from '@aws-sdk/client-api-gateway';
import type { Plan, Remediator } from '../core/control';
import type { Finding } from '../core/finding';
import { restApiStage } from '../detectors/apigateway-resources';
import {
  apigatewayCacheEncryption,
  evaluateCacheEncryption,
  type CacheEncryptionPolicy,
  type CacheEncryptionState,
} from '../detectors/apigateway-cache-encryption';

/**
 * Pure: one UpdateStage that sets `caching/dataEncrypted` to "true" on `*\/*` and on each
 * method override that caches unencrypted. Nothing else changes: the cache stays on, its size
 * and TTLs as they are; there is only one good value, so no last known good is needed.
 */
export function planCacheEncryption(finding: Finding, state: CacheEncryptionState): Plan {
  const stage = restApiStage.arn.parse(finding.resourceArn);
  if (!stage) return { change: null, reason: `${finding.resourceArn} is not a REST API stage` };
  const evaluation = evaluateCacheEncryption(state);
  if (evaluation.status === 'compliant') return { change: null, reason: 'cached responses are already encrypted' };
  if (evaluation.status === 'unknown') return { change: null, reason: evaluation.reason };
  const { unencrypted } = evaluation.observed as { unencrypted: string[] };
  const patchOperations: PatchOperation[] = unencrypted.map((key) => ({
    op: 'replace',
    path: `/${key}/caching/dataEncrypted`,
    value: 'true',
  }));
  const input: UpdateStageCommandInput = { restApiId: stage.restApiId, stageName: stage.stageName, patchOperations };
  return {
    change: stageUpdate(stage.region, input),
  };
}

export const apigatewayCacheEncryptionRemediator: Remediator<CacheEncryptionState, CacheEncryptionPolicy, 'apigateway-cache-encryption'> = {
  id: 'apigateway-cache-encryption',
  defaultRisk: 'low',
  risk: (_finding, policy) => policy.risk,
  plan: (finding, state) => planCacheEncryption(finding, state),

  apply: applyStageUpdate,

  async verify(ref, clients) {
    return verificationOf(await apigatewayCacheEncryption.readState(ref, clients), (state) => evaluateCacheEncryption(state));
  },

  targetOf: stageTargetOf,

  permissions: STAGE_UPDATE_PERMISSIONS,
};
