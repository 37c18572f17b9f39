import type { CloudTrailRecord } from '../core/events';
import { defineKind, type ResourceRef, type TagEdit } from '../core/resources';
import { asObject } from './json';
import { extend } from '../core/extend';

/**
 * API Gateway REST API resources. Their ARNs have an empty account field:
 * `arn:aws:apigateway:us-east-1::/restapis/a1b2c3/stages/prod`, `arn:aws:apigateway:us-east-1::/usageplans/abc123`.
 * HTTP APIs (`/apis/...`) are another kind, guarded by no control yet.
 */

export interface StageRef extends ResourceRef {
  type: 'AWS::ApiGateway::Stage';
  region: string;
  restApiId: string;
  stageName: string;
}

export interface UsagePlanRef extends ResourceRef {
  type: 'AWS::ApiGateway::UsagePlan';
  region: string;
  usagePlanId: string;
}

const STAGE_RESOURCE = /^\/restapis\/([^/]+)\/stages\/([^/]+)$/;
const REST_API_RESOURCE = /^\/restapis\/([^/]+)$/;
const USAGE_PLAN_RESOURCE = /^\/usageplans\/([^/]+)$/;
const NOT_FOUND = ['NotFoundException'] as const;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function stringMap(value: unknown): Record<string, string> {
  const o = asObject(value);
  if (!o) return {};
  return Object.fromEntries(Object.entries(o).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

function keyList(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((k): k is string => typeof k === 'string');
  // a query parameter may be rendered as one comma-separated string
  return typeof value === 'string' && value !== '' ? value.split(',') : [];
}

/**
 * API Gateway tags: `TagResource` carries `resourceArn` and `tags` (a map), `UntagResource`
 * `resourceArn` and `tagKeys`. No real record confirms whether the body is wrapped
 * (`tagResourceInput`) like other API Gateway bodies, so both are read.
 */
export const tagging = {
  source: 'aws.apigateway',
  eventSource: 'apigateway.amazonaws.com',
  eventNames: ['TagResource', 'UntagResource'],
  editOf<Ref extends ResourceRef>(record: CloudTrailRecord, parseArn: (arn: string) => Ref | undefined): TagEdit | undefined {
    const params = record.requestParameters ?? {};
    const arn = str(params.resourceArn) ?? str(params.resource_arn);
    const parsed = arn ? parseArn(decodeURIComponent(arn)) : undefined;
    if (!parsed) return undefined;
    const ref = extend<ResourceRef>(parsed, { account: record.recipientAccountId });
    const body = asObject(params.tagResourceInput) ?? params;
    return record.eventName === 'TagResource'
      ? { ref, set: stringMap(body.tags), removed: [], complete: false }
      : { ref, set: {}, removed: keyList(params.tagKeys), complete: false };
  },
};

/** REST API stages. A stage's AWS Config resource id is its ARN. */
export const restApiStage = defineKind<StageRef, { restApiId: string; stageName: string }>({
  type: 'AWS::ApiGateway::Stage',
  configResourceType: 'AWS::ApiGateway::Stage',
  build: ({ restApiId, stageName }, { partition, region = '' }) =>
    `arn:${partition}:apigateway:${region}::/restapis/${restApiId}/stages/${stageName}`,
  parse(parts) {
    const m = parts.service === 'apigateway' && parts.region ? STAGE_RESOURCE.exec(parts.resource) : null;
    return m ? { restApiId: m[1]!, stageName: m[2]! } : undefined;
  },
  nameOf: (ref) => `${ref.restApiId}/${ref.stageName}`,
  // WAF names a stage it does not know (GetWebACLForResource) with its own code
  notFoundCodes: [...NOT_FOUND, 'WAFNonexistentItemException'],
  tagging,
});

/** Usage plans. AWS Config does not record them: CloudTrail and the sweep see them. */
export const usagePlan = defineKind<UsagePlanRef, { usagePlanId: string }>({
  type: 'AWS::ApiGateway::UsagePlan',
  build: ({ usagePlanId }, { partition, region = '' }) => `arn:${partition}:apigateway:${region}::/usageplans/${usagePlanId}`,
  parse(parts) {
    const m = parts.service === 'apigateway' && parts.region ? USAGE_PLAN_RESOURCE.exec(parts.resource) : null;
    return m ? { usagePlanId: m[1]! } : undefined;
  },
  nameOf: (ref) => ref.usagePlanId,
  notFoundCodes: NOT_FOUND,
  tagging,
});

/** A REST API stage reference. */
export function stageRef(region: string, restApiId: string, stageName: string, account?: string): StageRef {
  return restApiStage.ref({ restApiId, stageName }, { region, account });
}

/** A usage plan reference. */
export function usagePlanRef(region: string, usagePlanId: string, account?: string): UsagePlanRef {
  return usagePlan.ref({ usagePlanId }, { region, account });
}

// ---- REST APIs (apigateway-authorization, apigateway-domain-tls, apigateway-private-endpoint) ----

export interface RestApiRef extends ResourceRef {
  type: 'AWS::ApiGateway::RestApi';
  region: string;
  restApiId: string;
}

/**
 * REST APIs: `arn:aws:apigateway:us-east-1::/restapis/a1b2c3`. AWS Config records them
 * (`AWS::ApiGateway::RestApi`); whether an item's `resourceId` is the API id or its ARN is
 * not documented, so both are read.
 */
export const restApi = defineKind<RestApiRef, { restApiId: string }>({
  type: 'AWS::ApiGateway::RestApi',
  configResourceType: 'AWS::ApiGateway::RestApi',
  build: ({ restApiId }, { partition, region = '' }) => `arn:${partition}:apigateway:${region}::/restapis/${restApiId}`,
  parse(parts) {
    const m = parts.service === 'apigateway' && parts.region ? REST_API_RESOURCE.exec(parts.resource) : null;
    return m ? { restApiId: m[1]! } : undefined;
  },
  nameOf: (ref) => ref.restApiId,
  notFoundCodes: NOT_FOUND,
  configIds: (resourceId) => (/^[A-Za-z0-9]+$/.test(resourceId) ? { restApiId: resourceId } : undefined),
  tagging,
});

/** A REST API reference. */
export function restApiRef(region: string, restApiId: string, account?: string): RestApiRef {
  return restApi.ref({ restApiId }, { region, account });
}
