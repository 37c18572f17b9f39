import { ArnFormat, Stack, Token, Validations, type CfnElement } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sns from 'aws-cdk-lib/aws-sns';

/**
 * Grants written out action by action. CDK's `grant*` helpers add wildcard actions
 * (`kms:GenerateDataKey*`, `kms:ReEncrypt*`) and every DynamoDB write; Rampart's functions get
 * exactly the calls their code makes.
 */

/** The DynamoDB calls of each function, from the stores it uses (core/dynamo-stores.ts). */
export const TABLE_ACTIONS = {
  detector: ['dynamodb:UpdateItem', 'dynamodb:PutItem', 'dynamodb:GetItem'], // findings.open/restart, lastKnownGood.put
  sweep: ['dynamodb:UpdateItem', 'dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:Scan'], // the detector's, and findings.listOpen (watchdog)
  plan: ['dynamodb:GetItem', 'dynamodb:PutItem'], // last-known-good, fix budget (one item per resource)
  apply: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], // re-plan (last-known-good), fix budget (conditional update), history
  verify: ['dynamodb:PutItem'], // last-known-good
  notify: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], // findings, expired approvals
  requestApproval: ['dynamodb:PutItem', 'dynamodb:UpdateItem'], // approval record, finding status
  approvalCallback: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], // approval decide-once
} as const;

/**
 * The kinds of item in the table, by the prefix of their partition key (core/dynamo-stores.ts:
 * `FINDING#<id>`, `APPROVAL#<id>`, `LKG#<account>#<control>#<arn>`, `FIXES#<account>#<control>#<arn>`).
 */
export const ITEM_KINDS = ['FINDING', 'APPROVAL', 'LKG', 'FIXES'] as const;
export type ItemKind = (typeof ITEM_KINDS)[number];

/** The kinds of item each function reads and writes, from the same stores as TABLE_ACTIONS. */
export const TABLE_ITEM_KINDS: Record<keyof typeof TABLE_ACTIONS, readonly ItemKind[]> = {
  detector: ['FINDING', 'LKG'], // findings.open/restart/get, lastKnownGood.put
  // the detector's, and the watchdog's Scan: a Scan names no partition key, so LeadingKeys does not narrow it
  sweep: ['FINDING', 'LKG'],
  plan: ['LKG', 'FIXES'], // last-known-good, fix budget
  apply: ['LKG', 'FIXES', 'FINDING'], // re-plan, fix budget, history
  verify: ['LKG'],
  notify: ['FINDING', 'APPROVAL'], // findings, expired approvals
  requestApproval: ['APPROVAL', 'FINDING'],
  approvalCallback: ['APPROVAL', 'FINDING'],
};

/**
 * Grants table calls on the items of the given kinds only (`dynamodb:LeadingKeys`: the
 * partition key of every item a call touches must start with one of the kinds). The kinds
 * default to those of the TABLE_ACTIONS entry passed.
 */
export function grantTable(
  grantee: iam.IGrantable,
  table: dynamodb.ITable,
  actions: readonly string[],
  itemKinds: readonly ItemKind[] = itemKindsOf(actions),
): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: [...actions],
      resources: [table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': itemKinds.map((kind) => `${kind}#*`) } },
    }),
  );
}

function itemKindsOf(actions: readonly string[]): readonly ItemKind[] {
  const entry = (Object.keys(TABLE_ACTIONS) as Array<keyof typeof TABLE_ACTIONS>).find((k) => TABLE_ACTIONS[k] === actions);
  if (!entry) throw new Error(`grantTable: name the item kinds of ${actions.join(', ')} (TABLE_ITEM_KINDS)`);
  return TABLE_ITEM_KINDS[entry];
}

/** Publishing to a KMS-encrypted topic: the data key is generated under the topic's key. */
export function grantPublish(grantee: iam.IGrantable, topic: sns.ITopic, key: kms.IKey): void {
  grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [topic.topicArn] }));
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [key.keyArn] }),
  );
}

/**
 * Reading a secret. A secret ARN given without its six-character suffix matches the secret
 * whatever suffix Secrets Manager gave it.
 */
export function grantSecretRead(grantee: iam.IGrantable, secretArn: string, key?: kms.IKey): void {
  const complete = /-[A-Za-z0-9]{6}$/.test(secretArn);
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [complete ? secretArn : `${secretArn}-??????`] }),
  );
  if (key) grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [key.keyArn] }));
}

/**
 * Reading the status of the workflow's executions (an open finding's workflow is checked
 * before it is started again): DescribeExecution on the executions of that one state machine.
 */
export function grantExecutionStatus(grantee: iam.IGrantable & { role?: iam.IRole }, stateMachine: sfn.StateMachine): void {
  const stack = Stack.of(stateMachine);
  const executions = stack.formatArn({
    service: 'states',
    resource: 'execution',
    resourceName: `${stateMachine.stateMachineName}:*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['states:DescribeExecution'], resources: [executions] }));
  const logicalId = stack.getLogicalId(stateMachine.node.defaultChild as CfnElement);
  if (grantee.role) {
    Validations.of(grantee.role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${nagText(stack.region, 'AWS::Region')}:${nagText(stack.account, 'AWS::AccountId')}:execution:<${logicalId}.Name>:*]`,
      reason: "DescribeExecution on the remediation workflow's own executions (one per finding generation, named at run time)",
    });
  }
}

/** How cdk-nag prints a stack's region or account: the pseudo parameter when the stack has no env. */
function nagText(value: string, pseudo: string): string {
  return Token.isUnresolved(value) ? `<${pseudo}>` : value;
}

/** Sending to a dead-letter queue (SSE-SQS: no key grant needed). */
export function grantSendTo(grantee: iam.IGrantable, queue: sqs.IQueue): void {
  grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }));
}
