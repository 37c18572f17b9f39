import { restApi, restApiRef, stageRef, usagePlanRef, type RestApiRef } from './apigateway-resources';
import type { CloudTrailRecord, RampartEvent } from '../core/events';
import { refFromConfigEvent } from './config-events';
import type { ResourceRef } from '../core/finding';
import { asObject, type Json } from './json';

/**
 * Reading API Gateway CloudTrail records. REST API records carry no ARN: ids sit at the top of
 * `requestParameters` and the request body is wrapped (`createStageInput`,
 * `updateStageInput.patchOperations`, ...). The wrapper names are not confirmed by a real
 * sample, so bodies are also accepted directly under `requestParameters`.
 * HTTP/WebSocket APIs (apigatewayv2) share the event source and names but carry `apiId`,
 * never `restApiId`: they are not REST stages and are left alone here.
 */

const nonEmpty = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** The request body of a REST API call, wrapped (`<wrapper>`) or not. */
export function requestBody(record: CloudTrailRecord, wrapper: string): Json {
  const params = record.requestParameters ?? {};
  return asObject(params[wrapper]) ?? params;
}

/** True for REST API (v1) records: they name `restApiId`; HTTP APIs name `apiId`. */
export function isRestApiRecord(record: CloudTrailRecord): boolean {
  return nonEmpty(record.requestParameters?.restApiId) !== undefined;
}

/** The REST stage an API Gateway record touches (CreateStage, UpdateStage, CreateDeployment with a stage). */
export function stageFromRecord(record: CloudTrailRecord): ResourceRef | undefined {
  const params = record.requestParameters ?? {};
  const restApiId = nonEmpty(params.restApiId);
  if (!restApiId) return undefined;
  let stageName: string | undefined;
  switch (record.eventName) {
    case 'CreateStage':
      stageName = nonEmpty(requestBody(record, 'createStageInput').stageName);
      break;
    case 'CreateDeployment':
      // a deployment without stageName touches no stage
      stageName = nonEmpty(requestBody(record, 'createDeploymentInput').stageName);
      break;
    default:
      stageName = nonEmpty(params.stageName);
  }
  return stageName ? stageRef(record.awsRegion, restApiId, stageName, record.recipientAccountId) : undefined;
}

/** The usage plan an API Gateway record touches; on CreateUsagePlan the id exists only in the response. */
export function usagePlanFromRecord(record: CloudTrailRecord): ResourceRef | undefined {
  const id =
    record.eventName === 'CreateUsagePlan'
      ? nonEmpty(asObject(record.responseElements)?.id)
      : nonEmpty(record.requestParameters?.usagePlanId);
  return id ? usagePlanRef(record.awsRegion, id, record.recipientAccountId) : undefined;
}

export interface PatchOperation {
  op: string;
  path: string;
  value?: string;
}

/** The patch operations of an Update* call (`updateStageInput.patchOperations` or bare `patchOperations`). */
export function patchOperationsOf(record: CloudTrailRecord, wrapper: string): PatchOperation[] {
  const ops = requestBody(record, wrapper).patchOperations;
  if (!Array.isArray(ops)) return [];
  return ops.flatMap((op) => {
    const o = asObject(op);
    if (!o || typeof o.op !== 'string' || typeof o.path !== 'string') return [];
    // patch values are strings in the API; tolerate numbers from hand-made events
    const value = typeof o.value === 'string' ? o.value : typeof o.value === 'number' ? String(o.value) : undefined;
    return [{ op: o.op, path: o.path, ...(value !== undefined ? { value } : {}) }];
  });
}

// ---- REST APIs (apigateway-authorization, apigateway-domain-tls, apigateway-private-endpoint) ----

/**
 * The REST API a record touches: `restApiId` in the request, or, on CreateRestApi and
 * ImportRestApi, only in the response (`responseElements.id`). HTTP APIs name `apiId`: none.
 */
export function restApiFromRecord(record: CloudTrailRecord): RestApiRef | undefined {
  const id =
    record.eventName === 'CreateRestApi' || record.eventName === 'ImportRestApi'
      ? nonEmpty(asObject(record.responseElements)?.id)
      : nonEmpty(record.requestParameters?.restApiId);
  return id ? restApiRef(record.awsRegion, id, record.recipientAccountId) : undefined;
}

/** The REST API an event is about: the CloudTrail record's, or the Config item's (`AWS::ApiGateway::RestApi`). */
export function restApisOfEvent(event: RampartEvent): ResourceRef[] {
  if (event.kind === 'cloudtrail') {
    const ref = restApiFromRecord(event.record);
    return ref ? [ref] : [];
  }
  return refFromConfigEvent(event, restApi) ?? [];
}
