import { build, parse, validate } from '@aws-sdk/util-arn-parser';
import type { ResourceRef } from './finding';

/** The partition of a region: `cn-north-1` → `aws-cn`, `us-gov-west-1` → `aws-us-gov`, else `aws`. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  return 'aws';
}

/**
 * An S3 bucket reference. Bucket ARNs carry neither region nor account (`arn:aws:s3:::name`),
 * so the region travels beside the ARN.
 *
 * @example bucketRef('logs', 'eu-west-1').arn === 'arn:aws:s3:::logs'
 */
export function bucketRef(bucket: string, region?: string, account?: string): ResourceRef {
  const partition = region ? partitionOf(region) : 'aws';
  const arn = build({ partition, service: 's3', region: '', accountId: '', resource: bucket });
  return { type: 'AWS::S3::Bucket', arn, bucket, region, account };
}

/**
 * A REST API stage reference. API Gateway ARNs have an empty account field:
 * `arn:aws:apigateway:us-east-1::/restapis/a1b2c3/stages/prod`.
 */
export function stageRef(region: string, restApiId: string, stageName: string, account?: string): ResourceRef {
  const arn = build({
    partition: partitionOf(region),
    service: 'apigateway',
    region,
    accountId: '',
    resource: `/restapis/${restApiId}/stages/${stageName}`,
  });
  return { type: 'AWS::ApiGateway::Stage', arn, region, restApiId, stageName, account };
}

/** A usage plan reference: `arn:aws:apigateway:us-east-1::/usageplans/abc123`. */
export function usagePlanRef(region: string, usagePlanId: string, account?: string): ResourceRef {
  const arn = build({
    partition: partitionOf(region),
    service: 'apigateway',
    region,
    accountId: '',
    resource: `/usageplans/${usagePlanId}`,
  });
  return { type: 'AWS::ApiGateway::UsagePlan', arn, region, usagePlanId, account };
}

const STAGE_RESOURCE = /^\/restapis\/([^/]+)\/stages\/([^/]+)$/;
const USAGE_PLAN_RESOURCE = /^\/usageplans\/([^/]+)$/;

/**
 * The resource an ARN names, for the three resource types Rampart guards; `undefined` for any
 * other ARN (an ALB, an HTTP API, a Cognito pool...), which is how WAF events on other resource
 * kinds are told apart from REST stages.
 */
export function refFromArn(arn: string, account?: string): ResourceRef | undefined {
  if (!validate(arn)) return undefined;
  const parts = parse(arn);
  if (parts.service === 's3' && !parts.resource.includes('/')) {
    return bucketRef(parts.resource, undefined, account);
  }
  if (parts.service !== 'apigateway' || !parts.region) return undefined;
  const stage = STAGE_RESOURCE.exec(parts.resource);
  if (stage) return stageRef(parts.region, stage[1]!, stage[2]!, account);
  const plan = USAGE_PLAN_RESOURCE.exec(parts.resource);
  if (plan) return usagePlanRef(parts.region, plan[1]!, account);
  return undefined;
}
