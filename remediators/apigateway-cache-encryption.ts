import { sendChange } from './send-change';
import type { PatchOperation, UpdateStageCommandInput } from '@aws-sdk/client-api-gateway';
import type { Plan, Remediator } from '../core/control';
import type { Finding } from '../core/finding';
import { restApiStage, stageRef } from '../detectors/apigateway-resources';
import {
  apigatewayCacheEncryption,
  evaluateCacheEncryption,
  type CacheEncryptionPolicy,
  type CacheEncryptionState,
} from '../detectors/apigateway-cache-encryption';
import { UPDATE_STAGE_PERMISSION } from '../detectors/apigateway-stage-settings';
import { apiGatewaySdk } from '../detectors/apigateway-waf';

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
    change: { service: 'apigateway', operation: 'UpdateStage', region: stage.region, input: input as unknown as Record<string, unknown> },
  };
}

export const apigatewayCacheEncryptionRemediator: Remediator<CacheEncryptionState, CacheEncryptionPolicy, 'apigateway-cache-encryption'> = {
  id: 'apigateway-cache-encryption',
  defaultRisk: 'low',
  risk: (_finding, policy) => policy.risk,
  plan: (finding, state) => planCacheEncryption(finding, state),

  async apply(change, clients) {
    const sdk = apiGatewaySdk();
    await sendChange(sdk, sdk.APIGatewayClient, change, clients, Object.keys(apigatewayCacheEncryptionRemediator.permissions));
  },

  async verify(ref, clients) {
    const observation = await apigatewayCacheEncryption.readState(ref, clients);
    if (observation.status !== 'known')
      return { compliant: false, reason: observation.status === 'gone' ? observation.reason : 'state unreadable' };
    const evaluation = evaluateCacheEncryption(observation.state);
    return evaluation.status === 'compliant'
      ? { compliant: true, state: observation.state }
      : { compliant: false, state: observation.state, reason: evaluation.reason };
  },

  targetOf(change) {
    const input = change.input as { restApiId?: string; stageName?: string };
    return stageRef(change.region, String(input.restApiId), String(input.stageName)).arn;
  },

  permissions: { UpdateStage: UPDATE_STAGE_PERMISSION },
};
