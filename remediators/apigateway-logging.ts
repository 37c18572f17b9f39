import { applyStageUpdate, STAGE_UPDATE_PERMISSIONS, stageTargetOf, stageUpdate, verificationOf } from './stage-update';
import type { PatchOperation, UpdateStageCommandInput } from '@aws-sdk/client-api-gateway';
import type { Plan, Remediator } from '../core/control';
import type { Finding } from '../core/finding';
import { restApiStage } from '../detectors/apigateway-resources';
import {
  LOGGING_LEVELS,
  apigatewayLogging,
  evaluateLogging,
  loggingRequirements,
  type LoggingPolicy,
  type StageLoggingState,
} from '../detectors/apigateway-logging';
import { EVERY_METHOD } from '../detectors/apigateway-stage-settings';

const replace = (path: string, value: string): PatchOperation => ({ op: 'replace', path, value });
const atLeast = (level: string | undefined, floor: string) =>
  level !== undefined && LOGGING_LEVELS.indexOf(level as never) >= LOGGING_LEVELS.indexOf(floor as never);

/**
 * Pure: the one UpdateStage that brings the stage's logging to the policy. Values come from the
 * last known good state where it meets the policy (its destination, format, a higher level),
 * else from the policy. Logging to CloudWatch Logs is left out while the account has no API
 * Gateway CloudWatch role (the call would fail): the plan says so instead. Only failing members
 * are written; nothing the stage does beyond the policy (INFO where ERROR is asked) is lowered.
 */
export function planLogging(finding: Finding, state: StageLoggingState, policy: LoggingPolicy, lastKnownGood?: StageLoggingState): Plan {
  const stage = restApiStage.arn.parse(finding.resourceArn);
  if (!stage) return { change: null, reason: `${finding.resourceArn} is not a REST API stage` };
  if (evaluateLogging(state, policy, stage).status === 'compliant') return { change: null, reason: 'the logging already meets the policy' };
  const req = loggingRequirements(policy, stage);
  const noRole = state.cloudwatchRoleArn === null;
  const ops: PatchOperation[] = [];
  const notes: string[] = [];

  if (req.accessLogging && (state.accessLogDestinationArn === null || state.accessLogFormat === null)) {
    const destination = state.accessLogDestinationArn ?? lastKnownGood?.accessLogDestinationArn ?? policy.accessLogDestinationArn;
    const format = state.accessLogFormat ?? lastKnownGood?.accessLogFormat ?? policy.accessLogFormat;
    if (!destination) notes.push('no access log destination to restore: give accessLogDestinationArn in the policy');
    else if (noRole && destination.includes(':logs:'))
      notes.push(`access logs to ${destination} need the account's API Gateway CloudWatch Logs role, which is not set`);
    else {
      if (state.accessLogDestinationArn === null) ops.push(replace('/accessLogSettings/destinationArn', destination));
      // API Gateway needs a format with a destination: written whenever the destination is
      if (state.accessLogFormat === null || state.accessLogDestinationArn === null) ops.push(replace('/accessLogSettings/format', format));
    }
  }
  if (state.loggingLevel !== undefined && !atLeast(state.loggingLevel, req.executionLogging)) {
    const level = atLeast(lastKnownGood?.loggingLevel, req.executionLogging) ? lastKnownGood!.loggingLevel! : req.executionLogging;
    if (noRole) notes.push(`execution logging (${level}) needs the account's API Gateway CloudWatch Logs role, which is not set`);
    else ops.push(replace(`/${EVERY_METHOD}/logging/loglevel`, level));
  }
  if (!req.allowDataTrace) {
    if (state.dataTrace === true) ops.push(replace(`/${EVERY_METHOD}/logging/dataTrace`, 'false'));
    for (const [key, on] of Object.entries(state.methodDataTrace ?? {})) if (on) ops.push(replace(`/${key}/logging/dataTrace`, 'false'));
  }
  if (req.tracing && state.tracingEnabled === false) ops.push(replace('/tracingEnabled', 'true'));

  if (ops.length === 0) return { change: null, reason: notes.join('; ') || 'the event does not reveal which settings to restore' };
  const input: UpdateStageCommandInput = { restApiId: stage.restApiId, stageName: stage.stageName, patchOperations: ops };
  return {
    change: stageUpdate(stage.region, input),
  };
}

export const apigatewayLoggingRemediator: Remediator<StageLoggingState, LoggingPolicy, 'apigateway-logging'> = {
  id: 'apigateway-logging',
  // turning logging on changes no request's outcome
  defaultRisk: 'low',
  risk: (_finding, policy) => policy.risk,
  plan: planLogging,

  apply: applyStageUpdate,

  async verify(ref, clients, policy) {
    return verificationOf(await apigatewayLogging.readState(ref, clients), (state) => evaluateLogging(state, policy, ref));
  },

  targetOf: stageTargetOf,

  permissions: STAGE_UPDATE_PERMISSIONS,
};
