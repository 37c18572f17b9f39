import { Aws, Stack, type IAspect } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

/**
 * The actions the guard's roles may hold on `*`: those the Service Authorization Reference lists
 * with no resource type, so `*` is the only resource they take. test/infra/wildcards.test.ts
 * fails on any other action granted on `*`.
 */
export const ACTIONS_ON_ANY_RESOURCE = [
  // X-Ray (Lambda and Step Functions tracing)
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  // CloudWatch Logs vended log delivery ("permission only" actions; Step Functions execution logs)
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  // account-wide listing (the S3 sweep)
  's3:ListAllMyBuckets',
] as const;

/**
 * What CDK grants on `*` that takes a resource, and the narrower resource it gets instead. Step
 * Functions' logging statement puts the log-group resource policy calls on `*`; CloudWatch Logs
 * scopes them to the account's log groups (`arn:<partition>:logs:<region>:<account>:*`).
 */
const NARROWER: Record<string, () => string> = {
  'logs:PutResourcePolicy': () => `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:*`,
  'logs:DescribeResourcePolicies': () => `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:*`,
  'logs:DescribeLogGroups': () => `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:*`,
};

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; [key: string]: unknown };

/**
 * Rewrites the identity policies below the scope so `*` carries only ACTIONS_ON_ANY_RESOURCE:
 * known CDK grants move to their narrower resource; anything else is left for the test to find.
 */
export class NarrowWildcardGrants implements IAspect {
  visit(node: IConstruct): void {
    if (!(node instanceof iam.CfnPolicy)) return;
    const document = Stack.of(node).resolve(node.policyDocument) as { Statement: Statement[] };
    let changed = false;
    const statements = document.Statement.flatMap((s) => {
      const actions = Array.isArray(s.Action) ? s.Action : [s.Action];
      if (s.Effect !== 'Allow' || s.Resource !== '*' || !actions.some((a) => a in NARROWER)) return [s];
      changed = true;
      const kept = actions.filter((a) => !(a in NARROWER));
      const moved = actions.filter((a) => a in NARROWER);
      const byResource = new Map<string, string[]>();
      for (const a of moved) byResource.set(NARROWER[a]!(), [...(byResource.get(NARROWER[a]!()) ?? []), a]);
      return [
        ...(kept.length > 0 ? [{ ...s, Action: kept }] : []),
        ...[...byResource].map(([resource, acts]) => ({ ...s, Action: acts, Resource: Stack.of(node).resolve(resource) })),
      ];
    });
    if (changed) node.policyDocument = { ...document, Statement: statements };
  }
}
