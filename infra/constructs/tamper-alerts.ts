import { Annotations, Aws, Names, Stack, Token, type CfnResource } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct, type IConstruct } from 'constructs';
import { CLOUDTRAIL_DETAIL_TYPE } from '../../core/events';
import { TAMPER_ALERT_PREFIX } from '../../core/topic-messages';
import type { EventPattern } from '../../detectors/patterns';

/** The IAM calls that change what a role may do, or remove it. */
export const ROLE_CHANGE_EVENTS = [
  'PutRolePolicy',
  'DeleteRolePolicy',
  'AttachRolePolicy',
  'DetachRolePolicy',
  'UpdateAssumeRolePolicy',
  'DeleteRole',
  'PutRolePermissionsBoundary',
  'DeleteRolePermissionsBoundary',
] as const;

/**
 * The CloudTrail pattern of role changes, whoever's role: the us-east-1 forwarder sends these
 * on (role names of another region's stack are not known there); the guard's own rule narrows
 * them to its roles.
 */
export function roleChangePattern(): EventPattern {
  return {
    source: ['aws.iam'],
    'detail-type': [CLOUDTRAIL_DETAIL_TYPE],
    detail: { eventSource: ['iam.amazonaws.com'], eventName: [...ROLE_CHANGE_EVENTS] },
  };
}

/**
 * How many resources one rule names, per kind. EventBridge refuses a pattern over 2,048
 * characters; with names as long as CloudFormation makes them (64-character function and role
 * names, 80-character state machine names, long regions and partitions) these counts keep
 * every rule below it (test/infra/pattern-size.test.ts resolves and measures each rule).
 */
const PER_RULE = {
  rules: 10,
  functions: 4,
  roles: 20,
  stateMachines: 3,
  schedules: 10,
  keys: 4,
  topics: 4,
  secrets: 3,
  alarms: 6,
  trails: 5,
} as const;

export type TamperKind = keyof typeof PER_RULE;

export interface TamperAlertsProps {
  /** The construct whose resources are watched: everything below it. */
  watched: IConstruct;
  topic: sns.ITopic;
  deadLetterQueue: sqs.IQueue;
  /** Secrets named by ARN in the policy (Slack), watched beside the ones the guard made. */
  externalSecretArns: readonly string[];
  /** True when a us-east-1 stack forwards IAM events here (`-c iamAlerts=true`). */
  iamEventsForwarded?: boolean;
  /** The functions of the notification channels that have one (Slack): each gets the alert as the whole event. */
  notifiers?: readonly lambda.IFunction[];
}

/**
 * The guard watching itself: a high-severity alert when someone changes or removes any of its
 * rules (these included), functions, roles, state machines and executions, the sweep schedule,
 * the key, the topic and its subscriptions, the secrets, the alarms or the trail. Resources are
 * found by walking the construct tree, so a resource added later is watched without a change
 * here; create this construct last. One rule per kind, split when a kind has more resources
 * than fit one pattern.
 */
export class TamperAlerts extends Construct {
  readonly rules: events.Rule[] = [];
  /** Every rule of this construct starts with it (rules watch each other by this prefix). */
  readonly namePrefix: string;

  constructor(scope: Construct, id: string, props: TamperAlertsProps) {
    super(scope, id);
    // a rule takes five targets: the topic and at most four channel functions
    if ((props.notifiers?.length ?? 0) > 4)
      throw new Error(
        `tamper alerts reach at most 4 notification channel functions (a rule has 5 targets); the list has ${props.notifiers!.length}`,
      );
    this.namePrefix = Names.uniqueResourceName(this, { maxLength: 44, separator: '-' });
    // this construct has no children yet: its own rules are watched by their name prefix
    const found = props.watched.node.findAll().filter((c) => c !== this);
    const cfn = <T extends CfnResource>(type: abstract new (...args: never[]) => T) => found.filter((c): c is T => c instanceof type);
    const stack = Stack.of(this);
    const arn = (service: string, resource: string) => `arn:${Aws.PARTITION}:${service}:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}`;

    // EventBridge: PutRule/DeleteRule/DisableRule name the rule in `name`, Put/RemoveTargets in `rule`
    const ruleNames: unknown[] = [{ prefix: `${this.namePrefix}-` }, ...cfn(events.CfnRule).map((r) => r.ref)];
    this.watch('rules', 'aws.events', ruleNames, (names) => ({
      eventSource: ['events.amazonaws.com'],
      $or: [
        { eventName: ['DisableRule', 'DeleteRule', 'PutRule'], requestParameters: { name: names } },
        { eventName: ['PutTargets', 'RemoveTargets'], requestParameters: { rule: names } },
      ],
    }));

    // Lambda names event versions (`UpdateFunctionCode20150331v2`): match the names by prefix.
    // `functionName` is what the caller passed: a name, a full or partial ARN
    // (`<account>:function:<name>`), either with a `:<qualifier>`
    const functions = cfn(lambda.CfnFunction).map((f) => f.ref);
    this.watch('functions', 'aws.lambda', functions, (names) => ({
      eventSource: ['lambda.amazonaws.com'],
      eventName: [
        'UpdateFunctionCode',
        'UpdateFunctionConfiguration',
        'DeleteFunction',
        'PutFunctionConcurrency',
        'RemovePermission',
        'PutFunctionEventInvokeConfig',
        'UpdateFunctionEventInvokeConfig',
        'CreateEventSourceMapping',
        'UpdateEventSourceMapping',
      ].map((prefix) => ({ prefix })),
      requestParameters: {
        functionName: names.flatMap((name) => [
          name,
          { prefix: `${name}:` },
          { suffix: `:function:${name}` },
          { wildcard: `*:function:${name}:*` },
        ]),
      },
    }));

    this.watch(
      'roles',
      'aws.iam',
      cfn(iam.CfnRole).map((r) => r.ref),
      (names) => ({ eventSource: ['iam.amazonaws.com'], eventName: [...ROLE_CHANGE_EVENTS], requestParameters: { roleName: names } }),
    );

    const machines = cfn(sfn.CfnStateMachine);
    this.watch('stateMachines', 'aws.states', machines, (chunk) => ({
      eventSource: ['states.amazonaws.com'],
      $or: [
        {
          eventName: ['DeleteStateMachine', 'UpdateStateMachine'],
          // a version or alias ARN (`<arn>:<version>`) names the machine too
          requestParameters: { stateMachineArn: chunk.flatMap((m) => [m.attrArn, { prefix: `${m.attrArn}:` }]) },
        },
        {
          eventName: ['StopExecution'],
          requestParameters: { executionArn: chunk.map((m) => ({ prefix: arn('states', `execution:${m.attrName}:`) })) },
        },
      ],
    }));

    this.watch(
      'schedules',
      'aws.scheduler',
      cfn(scheduler.CfnSchedule).map((s) => s.ref),
      (names) => ({
        eventSource: ['scheduler.amazonaws.com'],
        eventName: ['UpdateSchedule', 'DeleteSchedule'],
        requestParameters: { name: names },
      }),
    );

    // `keyId` is what the caller passed (id, ARN, alias); CloudTrail also lists the key's ARN in `resources`
    this.watch('keys', 'aws.kms', cfn(kms.CfnKey), (keys) => ({
      eventSource: ['kms.amazonaws.com'],
      eventName: ['DisableKey', 'ScheduleKeyDeletion', 'PutKeyPolicy', 'DisableKeyRotation'],
      $or: [{ requestParameters: { keyId: keys.flatMap((k) => [k.ref, k.attrArn]) } }, { resources: { ARN: keys.map((k) => k.attrArn) } }],
    }));

    // a subscription's ARN is its topic's ARN, a colon and an id
    this.watch(
      'topics',
      'aws.sns',
      cfn(sns.CfnTopic).map((t) => t.ref),
      (topicArns) => ({
        eventSource: ['sns.amazonaws.com'],
        $or: [
          { eventName: ['DeleteTopic', 'SetTopicAttributes', 'RemovePermission'], requestParameters: { topicArn: topicArns } },
          {
            eventName: ['Unsubscribe', 'SetSubscriptionAttributes'],
            requestParameters: { subscriptionArn: topicArns.map((t) => ({ prefix: `${t}:` })) },
          },
        ],
      }),
    );

    // `secretId` is a name or an ARN, the ARN with or without Secrets Manager's 6-character suffix
    const secrets = [
      ...cfn(secretsmanager.CfnSecret).map((s) =>
        s.name ? [s.ref, ...secretIds(s.name, arn('secretsmanager', `secret:${s.name}`))] : [s.ref],
      ),
      ...props.externalSecretArns.map(externalSecretIds),
    ];
    this.watch('secrets', 'aws.secretsmanager', secrets, (chunk) => ({
      eventSource: ['secretsmanager.amazonaws.com'],
      eventName: [
        'DeleteSecret',
        'PutSecretValue',
        'UpdateSecret',
        'UpdateSecretVersionStage',
        'RotateSecret',
        'PutResourcePolicy',
        'DeleteResourcePolicy',
      ],
      requestParameters: { secretId: chunk.flat() },
    }));

    const alarms = cfn(cloudwatch.CfnAlarm).map((a) => a.ref);
    this.watch('alarms', 'aws.monitoring', alarms, (names) => ({
      eventSource: ['monitoring.amazonaws.com'],
      $or: [
        { eventName: ['DeleteAlarms', 'DisableAlarmActions'], requestParameters: { alarmNames: names } },
        { eventName: ['PutMetricAlarm'], requestParameters: { alarmName: names } },
      ],
    }));

    // the trail's name or ARN, in `name`, and in `trailName` when selectors change (which may drop management events)
    this.watch('trails', 'aws.cloudtrail', cfn(cloudtrail.CfnTrail), (trails) => {
      const ids = trails.flatMap((t) => [t.ref, t.attrArn]);
      return {
        eventSource: ['cloudtrail.amazonaws.com'],
        $or: [
          { eventName: ['StopLogging', 'DeleteTrail', 'UpdateTrail'], requestParameters: { name: ids } },
          { eventName: ['PutEventSelectors'], requestParameters: { trailName: ids } },
        ],
      };
    });

    // the tamper alert's publishes are allowed by the topic's policy; an imported topic keeps the
    // target from adding an unconditioned key policy statement of its own
    const alertTopic = sns.Topic.fromTopicArn(this, 'Topic', props.topic.topicArn);
    for (const rule of this.rules) {
      // the imported topic's region is a token; it is this stack's topic
      Annotations.of(rule).acknowledgeWarning(
        '@aws-cdk/aws-events:ruleUnresolvedEnvironment',
        "The target is the guard's own topic, in this stack",
      );
      rule.addTarget(
        new targets.SnsTopic(alertTopic, {
          // one line for the channels SNS delivers (email), which cannot read an event
          message: events.RuleTargetInput.fromText(
            `${TAMPER_ALERT_PREFIX}${events.EventField.fromPath('$.detail.eventName')} by ${events.EventField.fromPath('$.detail.userIdentity.arn')} at ${events.EventField.time}`,
          ),
          deadLetterQueue: props.deadLetterQueue,
        }),
      );
      // a channel with a function renders the whole event (who, what, which resource, from where)
      // and skips the line above when the topic hands it on
      for (const notifier of props.notifiers ?? [])
        rule.addTarget(new targets.LambdaFunction(notifier, { deadLetterQueue: props.deadLetterQueue }));
    }

    if (!props.iamEventsForwarded && (Token.isUnresolved(stack.region) || stack.region !== 'us-east-1')) {
      Annotations.of(this).addWarningV2(
        'rampart:iam-alerts-us-east-1',
        `IAM events reach EventBridge only in us-east-1: changes to the guard's roles are alerted only when this stack runs there (its region is ${Token.isUnresolved(stack.region) ? 'not set' : stack.region}). Deploy with -c iamAlerts=true to add a small us-east-1 stack that forwards them here.`,
      );
    }
  }

  private watch<T>(kind: TamperKind, source: string, resources: readonly T[], detailOf: (chunk: T[]) => Record<string, unknown>): void {
    for (let i = 0, n = 1; i < resources.length; i += PER_RULE[kind], n++) {
      const chunk = resources.slice(i, i + PER_RULE[kind]);
      this.rules.push(
        new events.Rule(this, `${pascal(kind)}${n}`, {
          ruleName: `${this.namePrefix}-${kind}-${n}`,
          description: `Rampart: tamper alert: someone changed the guard's ${kind} (${n})`,
          eventPattern: {
            source: [source],
            detailType: [CLOUDTRAIL_DETAIL_TYPE],
            detail: { ...detailOf(chunk), errorCode: [{ exists: false }] },
          } as events.EventPattern,
        }),
      );
    }
  }
}

function pascal(kind: string): string {
  return kind.charAt(0).toUpperCase() + kind.slice(1);
}

/** The ids a caller may pass for a secret of a known name: name, ARN without or with the suffix. */
function secretIds(name: string, partialArn: string): unknown[] {
  return [name, partialArn, { prefix: `${partialArn}-` }];
}

/** A secret named in the policy by ARN, maybe without its suffix (see grants.ts). */
function externalSecretIds(secretArn: string): unknown[] {
  const partialArn = /-[A-Za-z0-9]{6}$/.test(secretArn) ? secretArn.slice(0, -7) : secretArn;
  return secretIds(partialArn.slice(partialArn.indexOf(':secret:') + ':secret:'.length), partialArn);
}
