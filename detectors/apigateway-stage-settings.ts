import type { MethodSetting, Stage } from '@aws-sdk/client-api-gateway';
import * as z from 'zod/mini';
import type { AwsClients } from '../core/aws';
import { lazySchema, type Observation } from '../core/control';
import type { CloudTrailRecord, RampartEvent } from '../core/events';
import type { ResourceRef } from '../core/finding';
import { isRestApiRecord, patchOperationsOf, stageFromRecord, type PatchOperation } from './apigateway-records';
import { restApiStage, type StageRef } from './apigateway-resources';
import { apiGatewaySdk } from './apigateway-waf';
import { awsErrorName } from './aws-errors';
import { configObservation, refFromConfigEvent } from './config-events';
import { asObject, type Json } from './json';

/**
 * What the stage-level controls (logging, cache encryption, client certificate) share: the
 * stage read (GetStage), the method-setting patch paths of UpdateStage, the CloudTrail events
 * that change a stage, and the policy's stage keys.
 *
 * Patch paths (API Reference, MethodSetting and Stage): a method setting is
 * `/{method_setting_key}/{group}/{setting}`, the key `*\/*` (every method) or
 * `~1pets/GET` (`/` of the resource path written `~1`), e.g. `/*\/*\/logging/loglevel`,
 * `/~1pets/GET/caching/dataEncrypted`; stage fields are `/tracingEnabled`,
 * `/cacheClusterEnabled`, `/clientCertificateId`, `/accessLogSettings/destinationArn`.
 * CloudTrail writes every patch value as a string ("true", "INFO").
 */

/** The stage-wide method settings key. */
export const EVERY_METHOD = '*/*';

/** The CloudTrail calls that change a REST stage's settings (CreateDeployment may create the stage). */
export const STAGE_CHANGE_EVENTS = ['CreateStage', 'UpdateStage', 'CreateDeployment'] as const;

export const STAGE_TRIGGER = {
  source: 'aws.apigateway',
  eventSource: 'apigateway.amazonaws.com',
  eventNames: STAGE_CHANGE_EVENTS,
} as const;

/** The REST stage a stage-changing record names (HTTP API records carry `apiId` and are left alone). */
export function stageOfRecord(record: CloudTrailRecord): ResourceRef[] {
  if (!(STAGE_CHANGE_EVENTS as readonly string[]).includes(record.eventName) || !isRestApiRecord(record)) return [];
  const ref = stageFromRecord(record);
  return ref ? [ref] : [];
}

/** The REST stage an event is about: a stage-changing record's, or the Config item's (`AWS::ApiGateway::Stage`). */
export function stagesOfEvent(event: RampartEvent): ResourceRef[] {
  if (event.kind === 'cloudtrail') return stageOfRecord(event.record);
  return refFromConfigEvent(event, restApiStage) ?? [];
}

/** A stage's settings from a Config item of the stage (`read` takes what the control judges). */
export function stageStateFromConfig<S>(event: RampartEvent, read: (stage: Stage) => S): Observation<S> {
  const fromConfig = configObservation<S>(event, 'stage', (item) => {
    const stage = stageOfConfig(item.configuration);
    return stage ? { status: 'known', state: read(stage) } : { status: 'unknown', reason: 'Config item carries no configuration' };
  });
  return fromConfig ?? { status: 'unknown', reason: 'event does not concern API Gateway' };
}

/** A patch value as a boolean: CloudTrail writes "true"/"false" (some clients "True"); `undefined` when not one. */
export function booleanOf(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value !== 'string') return undefined;
  const v = value.trim().toLowerCase();
  return v === 'true' ? true : v === 'false' ? false : undefined;
}

/** One method-setting patch: which key, which setting (`logging/loglevel`), the value (`null`: removed). */
export interface MethodSettingPatch {
  key: string;
  setting: string;
  value: string | null;
}

const METHOD_SETTING_PATH = /^\/([^/]+)\/([^/]+)\/([A-Za-z]+\/[A-Za-z]+)$/;

/** The method-setting patches of an UpdateStage, in order. */
export function methodSettingPatches(ops: readonly PatchOperation[]): MethodSettingPatch[] {
  return ops.flatMap((op) => {
    const m = METHOD_SETTING_PATH.exec(op.path);
    if (!m) return [];
    return [{ key: `${m[1]}/${m[2]}`, setting: m[3]!, value: op.op === 'remove' ? null : (op.value ?? null) }];
  });
}

/** The stage-field patches of an UpdateStage (`/tracingEnabled` → `tracingEnabled`), the last one per field. */
export function stageFieldPatches(ops: readonly PatchOperation[]): Map<string, string | null> {
  const fields = new Map<string, string | null>();
  for (const op of ops) {
    if (METHOD_SETTING_PATH.test(op.path)) continue;
    fields.set(op.path.replace(/^\//, ''), op.op === 'remove' ? null : (op.value ?? null));
  }
  return fields;
}

/** The UpdateStage patch operations of a record (`updateStageInput.patchOperations`). */
export function stagePatchOf(record: CloudTrailRecord): PatchOperation[] {
  return patchOperationsOf(record, 'updateStageInput');
}

/** The method settings of a GetStage answer or a Config item (`configuration.methodSettings`). */
export function methodSettingsOf(value: unknown): Record<string, MethodSetting> {
  const o = asObject(value);
  if (!o) return {};
  return Object.fromEntries(
    Object.entries(o).flatMap(([k, v]) => {
      const s = asObject(v);
      return s ? [[k, s as MethodSetting]] : [];
    }),
  );
}

/** The Config item's stage configuration, in the GetStage shape (the member names are the same). */
export function stageOfConfig(configuration: unknown): Stage | undefined {
  const c = asObject(configuration);
  if (!c) return undefined;
  return { ...(c as Stage), methodSettings: methodSettingsOf(c.methodSettings) };
}

/** GetStage of a REST stage; `null` when the stage does not exist. */
export async function getStage(ref: ResourceRef, clients: AwsClients): Promise<(Stage & { ref: StageRef }) | null> {
  if (!restApiStage.is(ref)) throw new TypeError(`not a REST API stage: ${ref.arn}`);
  const sdk = apiGatewaySdk();
  try {
    const out = await clients
      .get(sdk.APIGatewayClient, ref.region)
      .send(new sdk.GetStageCommand({ restApiId: ref.restApiId, stageName: ref.stageName }));
    return { ...out, ref };
  } catch (error) {
    if (restApiStage.notFoundCodes.includes(awsErrorName(error) ?? '')) return null;
    throw error;
  }
}

/** The read permission of GetStage (it also returns the stage's tags). */
export const GET_STAGE_PERMISSION = {
  actions: ['apigateway:GET'],
  resources: ['arn:${Partition}:apigateway:${Region}::/restapis/*/stages/*'],
} as const;

/** What UpdateStage needs (API Gateway's IAM actions are HTTP verbs on resource paths). */
export const UPDATE_STAGE_PERMISSION = {
  actions: ['apigateway:PATCH'],
  resources: ['arn:${Partition}:apigateway:${Region}::/restapis/*/stages/*'],
} as const;

/** The sweep's listing of REST stages (`listRestStages`). */
export const LIST_STAGES_PERMISSION = {
  actions: ['apigateway:GET'],
  resources: ['arn:${Partition}:apigateway:${Region}::/restapis', 'arn:${Partition}:apigateway:${Region}::/restapis/*/stages'],
} as const;

/** A policy key naming stages: `<restApiId>/<stageName>` or `<restApiId>` (every stage of the API). */
export const stageKeySchema = lazySchema(() =>
  z.string().check(z.regex(/^[A-Za-z0-9]+(\/[^/]+)?$/, { message: 'expected "<restApiId>" or "<restApiId>/<stageName>"' })),
);

/** The value the policy gives a stage: its own key first, then its API's; `undefined` when it names neither. */
export function forStage<V>(map: Readonly<Record<string, V>>, ref: ResourceRef): V | undefined {
  if (!restApiStage.is(ref)) return undefined;
  return map[`${ref.restApiId}/${ref.stageName}`] ?? map[ref.restApiId];
}

/** Drops `undefined` members, for `observed`/`desired` in findings. */
export function defined(o: Record<string, unknown>): Json {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Json;
}
