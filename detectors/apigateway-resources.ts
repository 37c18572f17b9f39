import { defineKind, type ResourceRef } from '../core/resources';

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
const USAGE_PLAN_RESOURCE = /^\/usageplans\/([^/]+)$/;
const NOT_FOUND = ['NotFoundException'] as const;

/** REST API stages. A stage's AWS Config resource id is its ARN. */
export const restApiStage = defineKind<StageRef, { restApiId: string; stageName: string }>({
  type: 'AWS::ApiGateway::Stage',
  configResourceType: 'AWS::ApiGateway::Stage',
  build: ({ restApiId, stageName }, { partition, region = '' }) => `arn:${partition}:apigateway:${region}::/restapis/${restApiId}/stages/${stageName}`,
  parse(parts) {
    const m = parts.service === 'apigateway' && parts.region ? STAGE_RESOURCE.exec(parts.resource) : null;
    return m ? { restApiId: m[1]!, stageName: m[2]! } : undefined;
  },
  nameOf: (ref) => `${ref.restApiId}/${ref.stageName}`,
  notFoundCodes: NOT_FOUND,
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
});

/** A REST API stage reference. */
export function stageRef(region: string, restApiId: string, stageName: string, account?: string): StageRef {
  return restApiStage.ref({ restApiId, stageName }, { region, account });
}

/** A usage plan reference. */
export function usagePlanRef(region: string, usagePlanId: string, account?: string): UsagePlanRef {
  return usagePlan.ref({ usagePlanId }, { region, account });
}
