import type { ControlId } from './controls';
import type { Finding } from './finding';

/**
 * What per-resource state (the last-known-good store, the fix budget) is kept by: one resource
 * under one control in one account. The account is part of it because many ARNs (S3, API
 * Gateway) do not carry one: the same bucket name in two accounts is two resources.
 */
export interface ResourceKey {
  /** The resource's account, from its ref or finding; {@link UNKNOWN_ACCOUNT} when nothing says. */
  readonly account: string;
  readonly control: ControlId;
  readonly resourceArn: string;
}

/**
 * The account of a resource whose account nothing says (an offline replay of an event without
 * `recipientAccountId`): the empty string, as in finding ids. Never a guess from the function's
 * or the caller's own account.
 */
export const UNKNOWN_ACCOUNT = '';

/**
 * The key of a resource under a control, its account taken from the resource itself.
 *
 * @example resourceKey('s3-default-encryption', { arn: 'arn:aws:s3:::logs', account: '111122223333' })
 */
export function resourceKey(control: ControlId, resource: { arn: string; account?: string | undefined }): ResourceKey {
  return { account: resource.account ?? UNKNOWN_ACCOUNT, control, resourceArn: resource.arn };
}

/**
 * The key as one string, `<account>#<control>#<arn>`: an account is digits or empty and a
 * control id is kebab-case, so neither holds a `#` and the ARN is all that follows the second.
 * An account with a `#` is refused rather than let it shift the fields.
 */
export function keyText(key: ResourceKey): string {
  if (key.account.includes('#') || key.control.includes('#'))
    throw new TypeError(`not a store key: account ${JSON.stringify(key.account)}, control ${JSON.stringify(key.control)}`);
  return `${key.account}#${key.control}#${key.resourceArn}`;
}

/** The key of a finding's resource: its control, its ARN, the account the finding carries. */
export function findingKey(finding: Pick<Finding, 'control' | 'resourceArn' | 'account'>): ResourceKey {
  return resourceKey(finding.control, { arn: finding.resourceArn, account: finding.account });
}
