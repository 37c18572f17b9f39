import { Aws, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { MemberRoleKind } from '../core/aws';
import type { Policy } from '../core/policy';
import { DEFAULT_MEMBER_ROLES } from '../core/policy';
import type { EventPattern } from '../detectors/patterns';
import type { RampartFunction } from './constructs/functions';
import { ROLE_CHANGE_EVENTS } from './constructs/tamper-alerts';

/**
 * How the hub and the member stacks know each other without sharing a deployment: the hub's
 * functions that act in member accounts have role names with a fixed prefix per member role
 * (`RampartHub-read-…`, `RampartHub-remediate-…`), and each member role trusts exactly the hub
 * account's roles of its prefix, from the organization. The names are explicit (IAM role
 * names are global to the hub account: one hub per account).
 */
export const HUB_ROLE_PREFIX: Readonly<Record<MemberRoleKind, string>> = { read: 'RampartHub-read-', remediate: 'RampartHub-remediate-' };

/** The hub bus's name, known to the member stacks (their rules target it). */
export const HUB_BUS_NAME = 'rampart-hub';

/** What both stacks need of the organization, checked at synth (infra/app.ts). */
export interface OrganizationTarget {
  organizationId: string;
  memberRoles: { read: string; remediate: string };
}

export function organizationTarget(policy: Policy): OrganizationTarget {
  const org = policy.organization;
  if (!org?.id)
    throw new Error('organization.id is required in the policy for -c mode=hub and -c mode=member (the o-… id: aws:PrincipalOrgID)');
  return { organizationId: org.id, memberRoles: org.memberRoles ?? { ...DEFAULT_MEMBER_ROLES } };
}

/**
 * Names a hub function's role for the member role it assumes and lets it assume that role in
 * the organization's accounts only (`aws:ResourceOrgID`).
 */
export function grantMemberRole(fn: RampartFunction, kind: MemberRoleKind, name: string, target: OrganizationTarget): void {
  const role = fn.role as iam.Role;
  (role.node.defaultChild as iam.CfnRole).roleName = `${HUB_ROLE_PREFIX[kind]}${name}`.slice(0, 64);
  const resource = `arn:${Aws.PARTITION}:iam::*:role/${target.memberRoles[kind]}`;
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['sts:AssumeRole'],
      resources: [resource],
      conditions: { StringEquals: { 'aws:ResourceOrgID': target.organizationId } },
    }),
  );
  Validations.of(role).acknowledge({
    id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::*:role/${target.memberRoles[kind]}]`,
    reason: `The hub assumes the member stack's ${kind} role in every account of the organization (aws:ResourceOrgID); the account is the only wildcard`,
  });
}

/** The OUs above an account (`organizations:ListParents`), for overrides by OU; any account or OU of the organization. */
export function grantListParents(fn: RampartFunction, target: OrganizationTarget): void {
  const resources = ['account', 'ou'].map((kind) => `arn:${Aws.PARTITION}:organizations::*:${kind}/${target.organizationId}/*`);
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['organizations:ListParents'], resources }));
  for (const r of resources)
    Validations.of(fn.role!).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::${r.replace(Aws.PARTITION, '<AWS::Partition>')}]`,
      reason: 'Overrides by OU: where any account of the organization sits (ListParents only); the management account id is not known here',
    });
}

/**
 * The remediation exclusion of a hub's rules: the member roles' fixes come back as events from
 * every account, so the role is excluded by name in any account (`anything-but` wildcard);
 * events without a session issuer (IAM users, root) are kept, as in one account.
 */
export function excludingMemberRemediation(pattern: EventPattern, remediateRole: string): EventPattern {
  const detailType = pattern['detail-type'] as string[] | undefined;
  if (!detailType?.includes('AWS API Call via CloudTrail')) return pattern;
  const issuer = (arn: unknown) => ({ userIdentity: { sessionContext: { sessionIssuer: { arn } } } });
  return {
    ...pattern,
    detail: {
      ...(pattern.detail as object),
      $or: [issuer([{ 'anything-but': { wildcard: `arn:*:iam::*:role/${remediateRole}` } }]), issuer([{ exists: false }])],
    },
  };
}

/** Every forwarding rule of a member stack has a name starting with this (their own tamper rule watches them by it). */
export const MEMBER_RULE_PREFIX = 'RampartForward-';

/**
 * What a member stack forwards besides the controls' events: changes of its roles (IAM: from
 * us-east-1 only) and of its forwarding rules. The hub alerts on both.
 * EventBridge's CloudTrail events name the rule in `name` (PutRule, DeleteRule, DisableRule)
 * or in `rule` (PutTargets, RemoveTargets).
 */
export function memberTamperPatterns(memberRoles: { read: string; remediate: string }): { roles: EventPattern; rules: EventPattern } {
  return {
    roles: {
      source: ['aws.iam'],
      'detail-type': ['AWS API Call via CloudTrail'],
      detail: {
        eventSource: ['iam.amazonaws.com'],
        eventName: [...ROLE_CHANGE_EVENTS],
        requestParameters: { roleName: [memberRoles.read, memberRoles.remediate] },
      },
    },
    rules: {
      source: ['aws.events'],
      'detail-type': ['AWS API Call via CloudTrail'],
      detail: {
        eventSource: ['events.amazonaws.com'],
        $or: [
          { eventName: ['DisableRule', 'DeleteRule', 'PutRule'], requestParameters: { name: [{ prefix: MEMBER_RULE_PREFIX }] } },
          { eventName: ['PutTargets', 'RemoveTargets'], requestParameters: { rule: [{ prefix: MEMBER_RULE_PREFIX }] } },
        ],
      },
    },
  };
}
