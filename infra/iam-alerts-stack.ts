import { Aws, Duration, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { roleChangePattern } from './constructs/tamper-alerts';

export interface IamAlertsStackProps extends StackProps {
  /** The region of the guard's stack: its default event bus receives the events. */
  guardRegion: string;
}

/**
 * IAM is a global service whose CloudTrail events reach EventBridge in us-east-1 only. This
 * small stack, deployed there (`-c iamAlerts=true`), forwards every role change to the default
 * bus of the guard's region, where the guard's tamper rule picks out its own roles (role names
 * are generated in the guard's stack and not known here). Nothing else is forwarded.
 */
export class IamAlertsStack extends Stack {
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: IamAlertsStackProps) {
    super(scope, id, { ...props, env: { account: props.env?.account, region: 'us-east-1' } });
    const pattern = roleChangePattern();
    this.rule = new events.Rule(this, 'ForwardRoleChanges', {
      description: `Rampart: IAM role changes, forwarded to ${props.guardRegion} for the guard's tamper alert`,
      eventPattern: { ...pattern, detail: { ...(pattern.detail as object), errorCode: [{ exists: false }] } } as events.EventPattern,
    });
    const deadLetters = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(deadLetters).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter queue of the forwarding rule; it has none of its own',
    });
    const guardBus = events.EventBus.fromEventBusArn(
      this,
      'GuardBus',
      `arn:${Aws.PARTITION}:events:${props.guardRegion}:${Aws.ACCOUNT_ID}:event-bus/default`,
    );
    this.rule.addTarget(new targets.EventBus(guardBus, { deadLetterQueue: deadLetters }));
  }
}
