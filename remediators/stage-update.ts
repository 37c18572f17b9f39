import type { UpdateStageCommandInput } from '@aws-sdk/client-api-gateway';
import type { AwsClients } from '../core/aws';
import type { Change, Observation, Verification } from '../core/control';
import type { Evaluation } from '../core/finding';
import { stageRef } from '../detectors/apigateway-resources';
import { UPDATE_STAGE_PERMISSION } from '../detectors/apigateway-stage-settings';
import { apiGatewaySdk } from '../detectors/apigateway-waf';
import { sendChange } from './send-change';

/**
 * The half every stage-setting control shares (logging, cache encryption, client certificate):
 * one `UpdateStage` of patch operations, sent, aimed at its stage, and verified by reading the
 * stage again and judging it with the control's own `evaluate`.
 */

export const STAGE_UPDATE_PERMISSIONS = { UpdateStage: UPDATE_STAGE_PERMISSION };

/** The planned change of a stage's patch operations. */
export function stageUpdate(region: string, input: UpdateStageCommandInput): Change {
  return { service: 'apigateway', operation: 'UpdateStage', region, input: input as unknown as Record<string, unknown> };
}

export async function applyStageUpdate(change: Change, clients: AwsClients): Promise<void> {
  const sdk = apiGatewaySdk();
  await sendChange(sdk, sdk.APIGatewayClient, change, clients, Object.keys(STAGE_UPDATE_PERMISSIONS));
}

/** The stage an `UpdateStage` change writes. */
export function stageTargetOf(change: Change): string {
  const input = change.input as { restApiId?: string; stageName?: string };
  return stageRef(change.region, String(input.restApiId), String(input.stageName)).arn;
}

/** A re-read judged by the control: compliant, or why not (gone, unreadable, still violating). */
export function verificationOf<S>(observation: Observation<S>, evaluate: (state: S) => Evaluation): Verification {
  if (observation.status !== 'known')
    return { compliant: false, reason: observation.status === 'gone' ? observation.reason : 'state unreadable' };
  const evaluation = evaluate(observation.state);
  return evaluation.status === 'compliant'
    ? { compliant: true, state: observation.state }
    : { compliant: false, state: observation.state, reason: evaluation.reason };
}
