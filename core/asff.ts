import type { AwsSecurityFinding } from '@aws-sdk/client-securityhub';
import type { Severity } from './controls';
import type { Finding } from './finding';

/**
 * A finding in the AWS Security Finding Format (ASFF), as `BatchImportFindings` takes it: the
 * required top-level attributes of the Security Hub user guide ("Required top-level ASFF
 * attributes") and the SDK's `AwsSecurityFinding` type. The product is the account's default
 * integration (`product/<account>/default`), which takes findings of any custom tool. Pure:
 * the caller gives the account, region, title and time.
 */

export const ASFF_SCHEMA_VERSION = '2018-10-08';

const SEVERITY_LABEL: Record<Severity, 'LOW' | 'MEDIUM' | 'HIGH'> = { low: 'LOW', medium: 'MEDIUM', high: 'HIGH' };

/** The resource types of the ASFF reference the guarded kinds map to; any other is `Other`, as ASFF asks. */
const ASFF_RESOURCE_TYPES: ReadonlySet<string> = new Set([
  'AwsS3Bucket',
  'AwsApiGatewayStage',
  'AwsApiGatewayRestApi',
  'AwsApiGatewayV2Stage',
  'AwsCloudTrailTrail',
  'AwsWafv2WebAcl',
  'AwsKmsKey',
  'AwsIamRole',
  'AwsEc2Instance',
  'AwsRdsDbInstance',
  'AwsDynamoDbTable',
  'AwsLambdaFunction',
  'AwsSnsTopic',
  'AwsSqsQueue',
]);

/** `AWS::S3::Bucket` → `AwsS3Bucket` when ASFF lists it, else `Other`. */
export function asffResourceType(cloudFormationType: string): string {
  const name = cloudFormationType
    .split('::')
    .map((part) => (part === 'AWS' ? 'Aws' : part))
    .join('');
  return ASFF_RESOURCE_TYPES.has(name) ? name : 'Other';
}

export function defaultProductArn(partition: string, region: string, account: string): string {
  return `arn:${partition}:securityhub:${region}:${account}:product/${account}/default`;
}

export interface AsffContext {
  account: string;
  region: string;
  partition: string;
  /** The control's title (the registry's). */
  title: string;
  /** When the issue was first seen (the event's time). */
  createdAt: Date;
  /** When this record of it was made. */
  updatedAt: Date;
  /** Extra strings for `ProductFields` (at most 50 pairs, strings only). */
  productFields?: Record<string, string>;
}

// ASFF limits: Title 256 characters, Description 1024
export const cut = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

export function toAsffFinding(finding: Finding, ctx: AsffContext): AwsSecurityFinding {
  return {
    SchemaVersion: ASFF_SCHEMA_VERSION,
    Id: `${ctx.region}/${ctx.account}/rampart/${finding.control}/${finding.id}`,
    ProductArn: defaultProductArn(ctx.partition, ctx.region, ctx.account),
    ProductName: 'Rampart',
    CompanyName: 'Rampart',
    GeneratorId: `rampart/${finding.control}`,
    AwsAccountId: ctx.account,
    Types: ['Software and Configuration Checks/AWS Security Best Practices'],
    CreatedAt: ctx.createdAt.toISOString(),
    UpdatedAt: ctx.updatedAt.toISOString(),
    Severity: { Label: SEVERITY_LABEL[finding.severity] ?? 'MEDIUM' },
    Title: cut(ctx.title, 256),
    Description: cut(`${finding.resourceArn}: ${finding.violation}`, 1024),
    Resources: [
      { Type: asffResourceType(finding.resourceType), Id: finding.resourceArn, Partition: ctx.partition as 'aws', Region: ctx.region },
    ],
    Compliance: { Status: 'FAILED' },
    RecordState: 'ACTIVE',
    Workflow: { Status: 'NEW' },
    ProductFields: {
      'rampart/control': finding.control,
      'rampart/findingId': finding.id,
      'rampart/eventId': finding.eventId,
      ...(ctx.productFields ?? {}),
    },
  };
}
