import { applyStageUpdate, STAGE_UPDATE_PERMISSIONS, stageTargetOf, stageUpdate, verificationOf } from './stage-update';
import type { UpdateStageCommandInput } from '@aws-sdk/client-api-gateway';
import type { Plan, Remediator } from '../core/control';
import type { Finding } from '../core/finding';
import { restApiStage } from '../detectors/apigateway-resources';
import {
  apigatewayClientCertificate,
  evaluateClientCertificate,
  type ClientCertificatePolicy,
  type ClientCertificateState,
} from '../detectors/apigateway-client-certificate';
import { forStage } from '../detectors/apigateway-stage-settings';

const ROTATE =
  'rotate it once the backend trusts a new certificate: GenerateClientCertificate, then UpdateStage /clientCertificateId to the new id ' +
  '(Rampart does not rotate: a backend that does not trust the new certificate would refuse every request)';

/**
 * Pure: a stage that lost its certificate (none, or one that no longer exists) gets its last
 * known good one back with one UpdateStage, else the one the policy names for it. An expiring certificate is reported, not replaced:
 * the plan says how to rotate it.
 */
export function planClientCertificate(
  finding: Finding,
  state: ClientCertificateState,
  policy: ClientCertificatePolicy,
  lastKnownGood?: ClientCertificateState,
): Plan {
  const stage = restApiStage.arn.parse(finding.resourceArn);
  if (!stage) return { change: null, reason: `${finding.resourceArn} is not a REST API stage` };
  const evaluation = evaluateClientCertificate(state, policy, stage);
  if (evaluation.status !== 'violation')
    return { change: null, reason: evaluation.status === 'unknown' ? evaluation.reason : 'nothing to fix' };
  const lost = state.clientCertificateId === null || state.expirationDate === null;
  if (!lost) return { change: null, reason: `${evaluation.reason}: ${ROTATE}` };
  const candidates = [lastKnownGood?.clientCertificateId, forStage(policy.certificates, stage)];
  const restore = candidates.find((id): id is string => typeof id === 'string' && id !== '' && id !== state.clientCertificateId);
  if (!restore)
    return {
      change: null,
      reason: `${evaluation.reason}, and no other certificate is known good: attach one (UpdateStage /clientCertificateId) or name it in the policy's certificates`,
    };
  const input: UpdateStageCommandInput = {
    restApiId: stage.restApiId,
    stageName: stage.stageName,
    patchOperations: [{ op: 'replace', path: '/clientCertificateId', value: restore }],
  };
  return {
    change: stageUpdate(stage.region, input),
  };
}

export const apigatewayClientCertificateRemediator: Remediator<
  ClientCertificateState,
  ClientCertificatePolicy,
  'apigateway-client-certificate'
> = {
  id: 'apigateway-client-certificate',
  defaultRisk: 'high',
  risk: (_finding, policy) => policy.risk,
  plan: planClientCertificate,

  apply: applyStageUpdate,

  async verify(ref, clients, policy) {
    return verificationOf(await apigatewayClientCertificate.readState(ref, clients), (state) =>
      evaluateClientCertificate(state, policy, ref),
    );
  },

  targetOf: stageTargetOf,

  permissions: STAGE_UPDATE_PERMISSIONS,
};
