import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ControlId } from '../../core/controls';
import { CLOUDTRAIL_DETAIL_TYPE } from '../../core/events';
import type { Policy } from '../../core/policy';
import { CONTROL_IDS, detectorFor } from '../../controls';
import { eventPatternsOf, type EventPattern } from '../../detectors/patterns';
import { grantExecutionStatus, grantPublish, grantSendTo, grantTable, TABLE_ACTIONS } from '../grants';
import { acknowledgeScope, regionsOf, statementsOf } from '../permissions';
import { policySliceFor } from '../policy-slices';
import { excludingMemberRemediation, grantListParents, grantMemberRole, type OrganizationTarget } from '../member-access';
import { RampartFunction } from './functions';

export interface DetectorRulesProps {
  policy: Policy;
  key: kms.IKey;
  table: dynamodb.ITable;
  stateMachine: sfn.StateMachine;
  /** Where a detector reports exemption changes (tag changes of guarded resources). */
  topic: sns.ITopic;
  deadLetterQueue: sqs.IQueue;
  /** Roles whose API calls the rules ignore: the guard's own fixes. */
  excludedRoleArns: string[];
  environment: Record<string, string>;
  /**
   * A hub's: the rules sit on its organization bus (the member stacks forward their events to
   * it), ignore the member remediate role's calls in any account, and the detectors read
   * through the member read role.
   */
  hub?: { bus: events.IEventBus; target: OrganizationTarget };
}

/** The rule pattern of a control in a hub, the one the member stacks forward: the same function for both, so they cannot differ. */
export function hubRulePatternOf(control: ControlId, remediateRole: string): EventPattern {
  const each = eventPatternsOf(detectorFor(control)).map((p) => excludingMemberRemediation(p, remediateRole));
  return each.length === 1 ? each[0]! : { $or: each };
}

/**
 * Adds "not made by one of these roles" to a CloudTrail pattern. `anything-but` alone would
 * also drop events that have no session issuer at all (IAM users, root), hence the `$or`.
 */
export function excludingRoles(pattern: EventPattern, roleArns: string[]): EventPattern {
  if (roleArns.length === 0 || !(pattern['detail-type'] as string[]).includes(CLOUDTRAIL_DETAIL_TYPE)) return pattern;
  const issuer = (arn: unknown) => ({ userIdentity: { sessionContext: { sessionIssuer: { arn } } } });
  return {
    ...pattern,
    detail: { ...(pattern.detail as object), $or: [issuer([{ 'anything-but': roleArns }]), issuer([{ exists: false }])] },
  };
}

/** One detector function per enabled control, and its rules, built from the detector's triggers. */
export class DetectorRules extends Construct {
  readonly functions: Record<string, RampartFunction> = {};
  readonly rules: events.Rule[] = [];

  constructor(scope: Construct, id: string, props: DetectorRulesProps) {
    super(scope, id);
    const regions = regionsOf(this, props.policy);
    // the exemption changes of a resource are reported by the first enabled control that guards it
    const enabled = CONTROL_IDS.filter((id) => props.policy.controls[id] !== undefined);
    for (const control of Object.keys(props.policy.controls) as ControlId[]) {
      const detector = detectorFor(control);
      const fn = new RampartFunction(this, `${pascal(control)}Detector`, {
        entry: 'handlers/detector.ts',
        handler: 'handler',
        description: `Rampart detector: ${detector.title}`,
        key: props.key,
        deadLetterQueue: props.deadLetterQueue,
        timeout: Duration.seconds(60),
        policy: policySliceFor(props.policy, { detector: control }),
        // malformed events go straight to the dead-letter queue (they would fail every retry)
        environment: {
          ...props.environment,
          RAMPART_CONTROL: control,
          RAMPART_CONTROLS_ON: enabled.join(','),
          RAMPART_DEAD_LETTER_QUEUE_URL: props.deadLetterQueue.queueUrl,
        },
      });
      for (const s of statementsOf(detectorFor(control).readPermissions, regions)) fn.addToRolePolicy(s);
      acknowledgeScope(control, [fn], regions);
      grantTable(fn, props.table, TABLE_ACTIONS.detector);
      props.stateMachine.grantStartExecution(fn);
      grantExecutionStatus(fn, props.stateMachine);
      grantSendTo(fn, props.deadLetterQueue);
      grantPublish(fn, props.topic, props.key);
      this.functions[control] = fn;
      if (props.hub) {
        grantMemberRole(fn, 'read', `${pascal(control)}Detector`, props.hub.target);
        grantListParents(fn, props.hub.target);
      }
      const rule = new events.Rule(this, `${pascal(control)}Rule`, {
        description: `Rampart ${control}: ${eventPatternsOf(detector).map(describePattern).join('; ')}`.slice(0, 512),
        eventPattern: (props.hub
          ? hubRulePatternOf(control, props.hub.target.memberRoles.remediate)
          : rulePatternOf(eventPatternsOf(detector), props.excludedRoleArns)) as events.EventPattern,
        ...(props.hub ? { eventBus: props.hub.bus } : {}),
      });
      rule.addTarget(
        new targets.LambdaFunction(fn, { deadLetterQueue: props.deadLetterQueue, retryAttempts: 4, maxEventAge: Duration.hours(2) }),
      );
      this.rules.push(rule);
    }
  }
}

function pascal(id: string): string {
  return id.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase());
}

function describePattern(pattern: EventPattern): string {
  const detail = pattern.detail as { eventName?: string[] } | undefined;
  return detail?.eventName ? detail.eventName.join(', ') : String((pattern['detail-type'] as string[])[0]);
}

/**
 * One rule per control: its patterns joined with a top-level `$or` (EventBridge's own keys;
 * CDK passes them through as they are), the guard's own role excluded from CloudTrail ones.
 */
export function rulePatternOf(patterns: EventPattern[], excludedRoleArns: string[]): EventPattern {
  const each = patterns.map((p) => excludingRoles(p, excludedRoleArns));
  return each.length === 1 ? each[0]! : { $or: each };
}
