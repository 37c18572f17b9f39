import { Annotations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { TAMPER_ALERT_PREFIX } from '../../core/topic-messages';
import { HUB_BUS_NAME, memberTamperPatterns } from '../member-access';

export interface HubBusProps {
  organizationId: string;
  /** `aws:PrincipalOrgPaths` the bus also requires; empty: the whole organization. */
  orgPaths: readonly string[];
  memberRoles: { read: string; remediate: string };
  topic: sns.ITopic;
  deadLetterQueue: sqs.IQueue;
}

/**
 * The hub's organization bus: the member stacks' rules put their accounts' events here, and
 * only principals of the organization may (`aws:PrincipalOrgID`, and the OU paths when the
 * policy names them). The detector rules sit on it; a tamper rule alerts on changes of the
 * member roles and forwarding rules that the members forward.
 */
export class HubBus extends Construct {
  readonly bus: events.EventBus;
  readonly tamperRules: events.Rule[] = [];

  constructor(scope: Construct, id: string, props: HubBusProps) {
    super(scope, id);
    this.bus = new events.EventBus(this, 'Bus', { eventBusName: HUB_BUS_NAME, description: 'Rampart: events of the organization' });
    this.bus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OrganizationPutEvents',
        principals: [new iam.AnyPrincipal()],
        actions: ['events:PutEvents'],
        resources: [this.bus.eventBusArn],
        conditions: {
          StringEquals: { 'aws:PrincipalOrgID': props.organizationId },
          ...(props.orgPaths.length > 0 ? { 'ForAnyValue:StringLike': { 'aws:PrincipalOrgPaths': [...props.orgPaths] } } : {}),
        },
      }),
    );
    const alertTopic = sns.Topic.fromTopicArn(this, 'Topic', props.topic.topicArn);
    for (const [kind, pattern] of Object.entries(memberTamperPatterns(props.memberRoles))) {
      const rule = new events.Rule(this, `MemberTamper-${kind}`, {
        eventBus: this.bus,
        description: `Rampart: a member account's ${kind === 'roles' ? 'Rampart roles' : 'forwarding rules'} changed`,
        eventPattern: pattern as events.EventPattern,
      });
      Annotations.of(rule).acknowledgeWarning(
        '@aws-cdk/aws-events:ruleUnresolvedEnvironment',
        "The target is the guard's own topic, in this stack",
      );
      rule.addTarget(
        new targets.SnsTopic(alertTopic, {
          message: events.RuleTargetInput.fromText(
            `${TAMPER_ALERT_PREFIX}${events.EventField.fromPath('$.detail.eventName')} in member account ${events.EventField.account} by ${events.EventField.fromPath('$.detail.userIdentity.arn')} at ${events.EventField.time}`,
          ),
          deadLetterQueue: props.deadLetterQueue,
        }),
      );
      this.tamperRules.push(rule);
    }
  }
}
