import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { TABLE_KEYS } from '../../core/dynamo-stores';

export interface GuardTableProps {
  /** Default RETAIN: the audit trail outlives the stack. */
  removalPolicy?: RemovalPolicy;
}

/** The guard's table: findings with their history, approvals, last-known-good states, the fix budget. */
export class GuardTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: GuardTableProps) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      // KMS (aws/dynamodb): encrypted without a key grant on every caller
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TABLE_KEYS.ttl,
      deletionProtection: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: TABLE_KEYS.pendingIndex,
      partitionKey: { name: TABLE_KEYS.pendingAttribute, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }
}
