import type { Finding } from '../core/finding';
import type { Policy } from '../core/policy';
import { actorKeys, callerMatches, personKeys, samePerson } from '../core/principals';

/**
 * Who may decide an approval: pure rules over the policy, the finding and the person asking.
 * The approval callback (Slack buttons, email links) and `rampart approvals` both go through
 * {@link refusalFor}; nothing else decides who counts.
 */

/** The person asking, as their channel proves it. */
export type Approver =
  /** A Slack click: the ids come from the signed interaction payload. */
  | { channel: 'slack'; userId: string; teamId?: string; appId?: string; name?: string }
  /** A signed email link: the address is inside the link's HMAC. */
  | { channel: 'email'; address: string }
  /** `rampart approvals`: the STS caller ARN. */
  | { channel: 'iam'; arn: string };

export const REFUSALS = [
  'not-found',
  'not-listed',
  'wrong-workspace',
  'self-approval',
  'already-decided',
  'expired',
  'workflow-gone',
  'not-recorded',
] as const;
export type RefusalReason = (typeof REFUSALS)[number];

export interface Refusal {
  refused: RefusalReason;
  message: string;
}

/** How the decider is recorded (`decidedBy`, the finding history, the notification). */
export function approverName(approver: Approver): string {
  switch (approver.channel) {
    case 'slack':
      return `slack:${approver.name ?? approver.userId} (${approver.userId})`;
    case 'email':
      return approver.address;
    case 'iam':
      return `iam:${approver.arn}`;
  }
}

const lower = (values: readonly string[]) => values.map((v) => v.toLowerCase());

/**
 * Why this approver may not decide this finding's fix, or undefined when they may.
 *
 * @example refusalFor(policy, finding, { channel: 'email', address: 'mallory@example.com' }) // { refused: 'not-listed', ... }
 */
export function refusalFor(policy: Pick<Policy, 'approvals' | 'notifications'>, finding: Finding, approver: Approver): Refusal | undefined {
  const { approvers, allowSelfApproval } = policy.approvals;
  if (approver.channel === 'slack') {
    const slack = policy.notifications.slack;
    // the signing secret proves the request is Slack's; these prove it is our workspace and app
    if (!slack?.teamId || !slack.appId || approver.teamId !== slack.teamId || approver.appId !== slack.appId) {
      return {
        refused: 'wrong-workspace',
        message: 'This Slack workspace or app is not the one Rampart takes approvals from; nothing was decided.',
      };
    }
    if (!approvers.slackUserIds.includes(approver.userId)) {
      return {
        refused: 'not-listed',
        message: 'You are not an approver for Rampart fixes (approvals.approvers.slackUserIds); nothing was decided.',
      };
    }
  } else if (approver.channel === 'email') {
    if (!lower(approvers.emails).includes(approver.address.toLowerCase())) {
      return {
        refused: 'not-listed',
        message: 'This link is not addressed to an approver for Rampart fixes (approvals.approvers.emails); nothing was decided.',
      };
    }
  } else if (!approvers.iamPrincipalArns.some((listed) => callerMatches(approver.arn, listed))) {
    return {
      refused: 'not-listed',
      message: `${approver.arn} is not an approver for Rampart fixes (approvals.approvers.iamPrincipalArns); nothing was decided.`,
    };
  }
  if (!allowSelfApproval) {
    const keys =
      approver.channel === 'iam'
        ? personKeys({ arn: approver.arn })
        : approver.channel === 'email'
          ? personKeys({ email: approver.address })
          : personKeys({ slackName: approver.name });
    if (samePerson(keys, actorKeys(finding.actor))) {
      return {
        refused: 'self-approval',
        message:
          'You made the change that caused this finding: another approver must decide its fix (approvals.allowSelfApproval is false); nothing was decided.',
      };
    }
  }
  return undefined;
}

/**
 * Why a fix waits for a person, in a sentence for the approval page and the messages: the
 * policy asked for it (`risk: high` on the control), or the control rates this call high risk
 * on its own (it can cut off clients or change who may call).
 */
export function approvalReasonOf(finding: Pick<Finding, 'control'>, operation: string, policy: Pick<Policy, 'controls'>): string {
  const configured = (policy.controls as Record<string, { risk?: string } | undefined>)[finding.control]?.risk;
  if (configured === 'high') {
    return `The policy sets risk: high for ${finding.control}: every fix it plans waits for a named approver.`;
  }
  return `${finding.control} rates ${operation} as a high-risk change (it can break clients or callers of the resource): a named approver must agree before it is applied.`;
}
