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
  defined,
  forStage,
  getStage,
  methodSettingPatches,
  stageFieldPatches,
  stageKeySchema,
  stagePatchOf,
  stageStateFromConfig,
  stagesOfEvent,
} from './apigateway-stage-settings';
import { apiGatewaySdk, listRestStages } from './apigateway-waf';
import { riskSchema } from './policy-fields';

/** Execution logging levels, lowest first (`OFF` is what a stage without the setting has). */
export const LOGGING_LEVELS = ['OFF', 'ERROR', 'INFO'] as const;
export type LoggingLevel = (typeof LOGGING_LEVELS)[number];
const rank = (level: string): number => LOGGING_LEVELS.indexOf(level as LoggingLevel);

/** The access log format Rampart writes when neither the last known good state nor the policy gives one. */
export const DEFAULT_ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  caller: '$context.identity.caller',
  user: '$context.identity.user',
  requestTime: '$context.requestTime',
  httpMethod: '$context.httpMethod',
  resourcePath: '$context.resourcePath',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
});

// access logs go to a CloudWatch Logs group or a Firehose stream named amazon-apigateway-*
/** The control's slice of the policy (`controls.apigateway-logging`). */
export const loggingPolicySchema = lazySchema(() => {
  const destinationArn = z.string().check(
    z.regex(/^arn:aws[a-z-]*:(logs:[a-z0-9-]+:\d{12}:log-group:[^:]+|firehose:[a-z0-9-]+:\d{12}:deliverystream\/amazon-apigateway-.+)$/, {
      message: 'expected a CloudWatch Logs log group ARN or a Firehose stream ARN (amazon-apigateway-*)',
    }),
  );

  const stageSettings = {
    /** Access logging required (a destination and a format). */
    accessLogging: z.optional(z.boolean()),
    /** The lowest execution logging level (`*\/*` `loggingLevel`) accepted. */
    executionLogging: z.optional(z.enum(['ERROR', 'INFO'])),
    /** Full request/response logging (`dataTraceEnabled`) is allowed. */
    allowDataTrace: z.optional(z.boolean()),
    /** X-Ray tracing (`tracingEnabled`) required. */
    tracing: z.optional(z.boolean()),
  };
  return z.strictObject({
    accessLogging: z._default(z.boolean(), true),
    /** Where access logs go when the stage has no last known good destination; unset: such a stage is reported, not fixed. */
    accessLogDestinationArn: z.optional(destinationArn),
    accessLogFormat: z._default(z.string().check(z.minLength(1)), DEFAULT_ACCESS_LOG_FORMAT),
    executionLogging: z._default(z.enum(['ERROR', 'INFO']), 'ERROR'),
    allowDataTrace: z._default(z.boolean(), false),
    tracing: z._default(z.boolean(), false),
    /** Per stage (`<restApiId>/<stage>`) or per API (`<restApiId>`) exceptions to the settings above. */
    stages: z._default(z.record(stageKeySchema(), z.strictObject(stageSettings)), {}),
    risk: riskSchema('low'),
  });
});

export type LoggingPolicy = z.infer<ReturnType<typeof loggingPolicySchema>>;

/** What a stage's settings must be: the policy's, with the stage's (or its API's) exceptions. */
export function loggingRequirements(policy: LoggingPolicy, ref: ResourceRef) {
  const own = forStage(policy.stages, ref) ?? {};
  return {
    accessLogging: own.accessLogging ?? policy.accessLogging,
    executionLogging: own.executionLogging ?? policy.executionLogging,
    allowDataTrace: own.allowDataTrace ?? policy.allowDataTrace,
    tracing: own.tracing ?? policy.tracing,
  };
}

/**
 * A stage's logging; a member an event does not reveal is absent. `null` means "not set".
 */
export interface StageLoggingState {
  accessLogDestinationArn?: string | null;
  accessLogFormat?: string | null;
  /** The `*\/*` execution logging level (`OFF` when the stage has none). */
  loggingLevel?: string;
  /** The `*\/*` full request/response logging. */
  dataTrace?: boolean;
  /** Per-method `dataTraceEnabled` overrides (`~1pets/GET`) that the state reveals. */
  methodDataTrace?: Record<string, boolean>;
  tracingEnabled?: boolean;
  /**
   * The account's API Gateway CloudWatch Logs role (GetAccount `cloudwatchRoleArn`), which
   * logging to CloudWatch Logs needs; `null`: none; absent: not read (offline).
   */
  cloudwatchRoleArn?: string | null;
}

const nonEmpty = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** A whole stage's logging (GetStage, a Config item). */
export function loggingOfStage(stage: Stage): StageLoggingState {
  const every = stage.methodSettings?.[EVERY_METHOD];
  const methodDataTrace: Record<string, boolean> = {};
  for (const [key, setting] of Object.entries(stage.methodSettings ?? {}))
    if (key !== EVERY_METHOD && setting.dataTraceEnabled === true) methodDataTrace[key] = true;
  return {
    accessLogDestinationArn: nonEmpty(stage.accessLogSettings?.destinationArn),
    accessLogFormat: nonEmpty(stage.accessLogSettings?.format),
    loggingLevel: nonEmpty(every?.loggingLevel)?.toUpperCase() ?? 'OFF',
    dataTrace: every?.dataTraceEnabled === true,
    methodDataTrace,
    tracingEnabled: stage.tracingEnabled === true,
  };
}

/** What an UpdateStage patch reveals of the logging; `undefined` when it touches none of it. */
export function loggingFromPatch(record: Parameters<typeof stagePatchOf>[0]): StageLoggingState | undefined {
  const ops = stagePatchOf(record);
  const state: StageLoggingState = {};
  const fields = stageFieldPatches(ops);
  if (fields.has('accessLogSettings')) {
    // removing the whole settings object turns access logging off
    state.accessLogDestinationArn = nonEmpty(fields.get('accessLogSettings'));
    state.accessLogFormat = nonEmpty(fields.get('accessLogSettings'));
  }
  if (fields.has('accessLogSettings/destinationArn'))
    state.accessLogDestinationArn = nonEmpty(fields.get('accessLogSettings/destinationArn'));
  if (fields.has('accessLogSettings/format')) state.accessLogFormat = nonEmpty(fields.get('accessLogSettings/format'));
  if (fields.has('tracingEnabled')) {
    const tracing = booleanOf(fields.get('tracingEnabled'));
    if (tracing !== undefined) state.tracingEnabled = tracing;
  }
  for (const patch of methodSettingPatches(ops)) {
    if (patch.setting === 'logging/loglevel' && patch.key === EVERY_METHOD) state.loggingLevel = patch.value?.toUpperCase() ?? 'OFF';
    if (patch.setting !== 'logging/dataTrace') continue;
    const on = patch.value === null ? false : booleanOf(patch.value);
    if (on === undefined) continue;
    if (patch.key === EVERY_METHOD) state.dataTrace = on;
    else (state.methodDataTrace ??= {})[patch.key] = on;
  }
  return Object.keys(state).length > 0 ? state : undefined;
}

const ROLE_MISSING =
  'the account has no API Gateway CloudWatch Logs role (GetAccount cloudwatchRoleArn): logging to CloudWatch Logs cannot be turned on until one is set (UpdateAccount /cloudwatchRoleArn)';

/** True when a fix of this stage's logging would log to CloudWatch Logs, which the missing account role forbids. */
export function blockedByMissingRole(state: StageLoggingState): boolean {
  return state.cloudwatchRoleArn === null;
}

/**
 * Pure: the stage's logging against the policy. A failing member that is known makes a
 * violation; otherwise a member the event does not reveal makes the verdict `unknown`.
 */
export function evaluateLogging(state: StageLoggingState, policy: LoggingPolicy, ref: ResourceRef): Evaluation {
  const req = loggingRequirements(policy, ref);
  const problems: string[] = [];
  const unknown: string[] = [];
  let needsCloudWatch = false;
  if (req.accessLogging) {
    if (state.accessLogDestinationArn === undefined) unknown.push('access log destination');
    else if (state.accessLogDestinationArn === null) {
      problems.push('access logging is off (no destination)');
      needsCloudWatch ||= !(policy.accessLogDestinationArn ?? '').includes(':firehose:');
    }
    if (state.accessLogFormat === undefined) unknown.push('access log format');
    else if (state.accessLogFormat === null) problems.push('access logs have no format');
  }
  if (state.loggingLevel === undefined) unknown.push('execution logging level');
  else if (rank(state.loggingLevel) < rank(req.executionLogging)) {
    problems.push(`execution logging is ${state.loggingLevel}, the policy requires ${req.executionLogging} at least`);
    needsCloudWatch = true;
  }
  if (!req.allowDataTrace) {
    if (state.dataTrace === undefined) unknown.push('full request/response logging');
    else if (state.dataTrace) problems.push('full request and response data is logged (dataTraceEnabled) on every method');
    const methods = Object.entries(state.methodDataTrace ?? {})
      .filter(([, on]) => on)
      .map(([key]) => key);
    if (methods.length > 0) problems.push(`full request and response data is logged on ${methods.join(', ')}`);
  }
  if (req.tracing) {
    if (state.tracingEnabled === undefined) unknown.push('X-Ray tracing');
    else if (!state.tracingEnabled) problems.push('X-Ray tracing is off');
  }
  if (problems.length > 0) {
    if (needsCloudWatch && blockedByMissingRole(state)) problems.push(ROLE_MISSING);
    return {
      status: 'violation',
      observed: defined({ ...state, methodDataTrace: undefined, cloudwatchRoleArn: undefined }),
      desired: defined({
        accessLogging: req.accessLogging || undefined,
        loggingLevel: `${req.executionLogging} or higher`,
        dataTrace: req.allowDataTrace ? undefined : false,
        tracingEnabled: req.tracing || undefined,
      }),
      reason: problems.join('; '),
    };
  }
  if (unknown.length > 0) return { status: 'unknown', reason: `the event does not reveal the stage's ${unknown.join(', ')}` };
  return { status: 'compliant' };
}

function stateFromRecord(event: Extract<RampartEvent, { kind: 'cloudtrail' }>): Observation<StageLoggingState> {
  const record = event.record;
  switch (record.eventName) {
    case 'CreateStage': {
      // CreateStage takes no access log or method settings: a new stage logs nothing
      const tracing = booleanOf(requestBody(record, 'createStageInput').tracingEnabled) ?? false;
      return { status: 'known', state: loggingOfStage({ tracingEnabled: tracing }) };
    }
    case 'UpdateStage': {
      const state = loggingFromPatch(record);
      if (state) return { status: 'known', state };
      const paths =
        stagePatchOf(record)
          .map((o) => o.path)
          .join(', ') || 'nothing';
      return { status: 'unknown', reason: `UpdateStage patches ${paths}; the logging is not in the event` };
    }
    default:
      return { status: 'unknown', reason: `${record.eventName} may target an existing stage; its logging is not in the event` };
  }
}

export const apigatewayLogging: Detector<StageLoggingState, LoggingPolicy, 'apigateway-logging'> = {
  id: 'apigateway-logging',
  title: 'REST API stages keep access logging, execution logging and tracing as the policy requires',
  severity: 'medium',
  // APIGateway.1: execution logging; APIGateway.3: X-Ray tracing
  securityHubControls: ['APIGateway.1', 'APIGateway.3'],
  resources: [restApiStage],
  get policySchema() {
    return loggingPolicySchema();
  },
  triggers: { cloudTrail: [STAGE_TRIGGER], configResourceTypes: ['AWS::ApiGateway::Stage'] },

  resourcesFrom: stagesOfEvent,

  stateFrom(event: RampartEvent): Observation<StageLoggingState> {
    return event.kind === 'cloudtrail' ? stateFromRecord(event) : stageStateFromConfig(event, loggingOfStage);
  },

  async readState(ref: ResourceRef, clients: AwsClients): Promise<Observation<StageLoggingState>> {
    if (!restApiStage.is(ref)) throw new TypeError(`not a REST API stage: ${ref.arn}`);
    const sdk = apiGatewaySdk();
    // the account's role is read each time: once it is set, the next read may fix the stage
    const [stage, account] = await Promise.all([
      getStage(ref, clients),
      clients.get(sdk.APIGatewayClient, ref.region).send(new sdk.GetAccountCommand({})),
    ]);
    if (!stage) return { status: 'gone', reason: `stage ${ref.arn} does not exist` };
    return {
      status: 'known',
      state: { ...loggingOfStage(stage), cloudwatchRoleArn: nonEmpty(account.cloudwatchRoleArn) },
      tags: stage.tags ?? {},
    };
  },

  readPermissions: [
    GET_STAGE_PERMISSION,
    // GetAccount: the CloudWatch Logs role execution logging needs
    { actions: ['apigateway:GET'], resources: ['arn:${Partition}:apigateway:${Region}::/account'] },
  ],

  evaluate: (state, policy, ref) => evaluateLogging(state, policy, ref),

  list: listRestStages,
  listPermissions: [LIST_STAGES_PERMISSION],
};
