import {
  Aws,
  BootstraplessSynthesizer,
  CfnCondition,
  Duration,
  Fn,
  Stack,
  Validations,
  type CfnResource,
  type StackProps,
} from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct, IConstruct } from 'constructs';
import type { MemberRoleKind } from '../core/aws';
import type { ControlId } from '../core/controls';
import type { Policy } from '../core/policy';
import { detectorFor, remediatorFor } from '../controls';
import { hubRulePatternOf } from './constructs/detector-rules';
import { HUB_BUS_NAME, HUB_ROLE_PREFIX, MEMBER_RULE_PREFIX, memberTamperPatterns, type OrganizationTarget } from './member-access';
import { acknowledgePattern, statementsOf } from './permissions';

export interface MemberStackProps extends StackProps {
  policy: Policy;
  target: OrganizationTarget;
  /** The hub's account and region: its bus receives the events, its roles assume the member roles. */
  hubAccount: string;
  hubRegion: string;
  /** The region whose stack instance creates the roles (IAM is global; the other regions' instances only forward). Default us-east-1. */
  rolesRegion?: string;
}

/**
 * The stack in every member account (`-c mode=member`), made for a service-managed StackSet:
 * no assets and no bootstrap, the same template in every account and region.
 * - one rule per enabled control on the default bus, with exactly the hub's detector pattern,
 *   forwarding to the hub bus (a role of its own for EventBridge's PutEvents, a dead-letter queue);
 * - the tamper patterns of its own roles and rules, forwarded too (IAM's events exist in
 *   us-east-1 only: the us-east-1 instance forwards them);
 * - the read and remediate roles, with the registry's permissions of the enabled controls, each
 *   trusted only by the hub account's roles of its prefix, from the organization.
 */
export class MemberStack extends Stack {
  readonly forwardingRules: events.Rule[] = [];
  readonly roles: Partial<Record<MemberRoleKind, iam.Role>> = {};

  constructor(scope: Construct, id: string, props: MemberStackProps) {
    super(scope, id, { ...props, synthesizer: new BootstraplessSynthesizer() });
    const { policy, target } = props;
    const controls = Object.keys(policy.controls) as ControlId[];
    const regions = policy.organization?.regions.length
      ? policy.organization.regions
      : policy.regions.length
        ? policy.regions
        : [props.hubRegion];

    const hubBus = events.EventBus.fromEventBusArn(
      this,
      'HubBus',
      `arn:${Aws.PARTITION}:events:${props.hubRegion}:${props.hubAccount}:event-bus/${HUB_BUS_NAME}`,
    );
    const deadLetters = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(deadLetters).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter queue of the forwarding rules; it has none of its own',
    });
    const putEvents = new iam.Role(this, 'ForwardRole', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      description: "Rampart: EventBridge puts this account's events on the hub bus",
    });
    const forward = (name: string, pattern: unknown, description: string) => {
      const rule = new events.Rule(this, name, {
        ruleName: `${MEMBER_RULE_PREFIX}${name}`.slice(0, 64),
        description,
        eventPattern: pattern as events.EventPattern,
      });
      rule.addTarget(new targets.EventBus(hubBus, { role: putEvents, deadLetterQueue: deadLetters }));
      this.forwardingRules.push(rule);
      return rule;
    };
    for (const control of controls)
      forward(control, hubRulePatternOf(control, target.memberRoles.remediate), `Rampart ${control}: forwarded to the hub`);
    const tamper = memberTamperPatterns(target.memberRoles);
    forward('tamper-rules', tamper.rules, "Rampart: changes of this stack's forwarding rules, forwarded to the hub");
    // IAM's events reach EventBridge in us-east-1 only: that region's instance forwards them (elsewhere the rule never matches)
    forward('tamper-roles', tamper.roles, 'Rampart: changes of the Rampart roles (IAM, us-east-1), forwarded to the hub');

    const rolesHere = new CfnCondition(this, 'RolesRegion', {
      expression: Fn.conditionEquals(Aws.REGION, props.rolesRegion ?? 'us-east-1'),
    });
    const trust = (kind: MemberRoleKind) =>
      new iam.PrincipalWithConditions(new iam.AccountPrincipal(props.hubAccount), {
        StringEquals: { 'aws:PrincipalOrgID': target.organizationId },
        ArnLike: {
          'aws:PrincipalArn': [
            `arn:${Aws.PARTITION}:iam::${props.hubAccount}:role/${HUB_ROLE_PREFIX[kind]}*`,
            ...(policy.organization?.operatorRoleArns ?? []),
          ],
        },
      });
    const read = controls.flatMap((c) => [...detectorFor(c).readPermissions, ...detectorFor(c).listPermissions]);
    const write = controls.flatMap((c) => {
      const r = remediatorFor(c);
      return [...Object.values(r.permissions), ...(r.applyReadPermissions ?? [])];
    });
    for (const [kind, permissions] of [
      ['read', read],
      ['remediate', [...read, ...write]],
    ] as const) {
      const role = new iam.Role(this, kind === 'read' ? 'ReadRole' : 'RemediateRole', {
        roleName: target.memberRoles[kind],
        assumedBy: trust(kind),
        description: `Rampart: the hub ${kind === 'read' ? 'reads' : 'fixes'} this account's guarded resources`,
        maxSessionDuration: Duration.hours(1),
      });
      (role.node.defaultChild as CfnResource).cfnOptions.condition = rolesHere;
      const statements = statementsOf(merged(permissions), regions);
      role.attachInlinePolicy(new iam.Policy(this, `${kind}Permissions`, { statements }));
      const policyResource = this.node.findChild(`${kind}Permissions`).node.defaultChild as CfnResource;
      policyResource.cfnOptions.condition = rolesHere;
      this.roles[kind] = role;
      acknowledgeAll(this.node.findChild(`${kind}Permissions`), permissions, regions);
    }
  }
}

/** The same action on the same resources once. */
function merged(permissions: ReadonlyArray<{ actions: readonly string[]; resources: readonly string[] }>) {
  const byResources = new Map<string, Set<string>>();
  for (const p of permissions) {
    const key = JSON.stringify([...p.resources].sort());
    const actions = byResources.get(key) ?? new Set<string>();
    for (const a of p.actions) actions.add(a);
    byResources.set(key, actions);
  }
  return [...byResources].map(([key, actions]) => ({ actions: [...actions].sort(), resources: JSON.parse(key) as string[] }));
}

function acknowledgeAll(
  policy: IConstruct,
  permissions: ReadonlyArray<{ resources: readonly string[] }>,
  regions: readonly string[],
): void {
  for (const pattern of new Set(permissions.flatMap((p) => p.resources))) {
    if (pattern === '*') {
      Validations.of(policy).acknowledge({
        id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
        reason:
          'Listing calls the Service Authorization Reference offers on * only (ListBuckets, ListTrails...): the actions are listed one by one',
      });
      continue;
    }
    acknowledgePattern(
      policy,
      pattern,
      regions,
      'The guard watches every resource of its type in the account, so the resource is a pattern; the actions are listed one by one',
    );
  }
}
