import { assumedRoleCredentials } from '../core/assume-role';
import { createClientFactory, type AwsClients, type ClientFactory, type MemberRoleKind } from '../core/aws';
import { messageOf } from '../core/errors';
import { listOrganizationAccounts, organizationalUnitsOf, type OrganizationAccount } from '../core/organization';
import { overridesUseOus, policyFor } from '../core/overrides';
import { sdk } from '../core/sdk';
import type { Policy } from '../controls/policy';
import { ACCOUNT_ID_PATTERN, OU_ID_PATTERN } from '../core/policy';
import { AwsAccessError, NO_CREDENTIALS, requireRegion } from './aws-access';

/**
 * The member accounts a command from a laptop works in (`scan --org`, `--account`, `--ou`;
 * `remediate` of a member account's finding): listed with Organizations from the management or
 * a delegated-administrator account and filtered by the policy, each entered through the member
 * stack's role with STS (the caller must be one of `organization.operatorRoleArns`, which the
 * member roles trust). The account's policy is the base with its overrides merged.
 */

export interface OrganizationOptions {
  org?: boolean;
  account?: string[];
  ou?: string[];
  region?: string;
  endpoint?: string;
}

export interface MemberAccounts {
  /** The account the caller's own credentials act in. */
  caller: string;
  accounts: OrganizationAccount[];
  /** The clients of a member account through its role, under `session` (shown in its CloudTrail). */
  clientsOf(account: string, role: MemberRoleKind, session: string): AwsClients;
  /** The account's policy: the base with the overrides that match it (its OUs read when an override names one). */
  policyOf(account: string): Promise<Policy>;
}

/** Whether the options ask for member accounts rather than the caller's own. */
export function wantsOrganization(options: OrganizationOptions): boolean {
  return Boolean(options.org) || (options.account?.length ?? 0) > 0 || (options.ou?.length ?? 0) > 0;
}

/** A usage error of the organization options (exit 2). */
export class OrganizationUsageError extends Error {}

/**
 * The member accounts of the options: `--org` (every account in the policy's scope), narrowed by
 * `--ou` (below these OUs) and `--account` (these ids); `--account` alone takes the ids as given,
 * without listing the organization.
 */
export async function memberAccounts(policy: Policy, options: OrganizationOptions): Promise<MemberAccounts> {
  const org = policy.organization;
  if (!org)
    throw new OrganizationUsageError(
      '--org, --account and --ou need an organization: block in the policy (the member roles to assume); see README "Organizations"',
    );
  for (const id of options.account ?? [])
    if (!ACCOUNT_ID_PATTERN.test(id)) throw new OrganizationUsageError(`--account takes 12-digit account ids, not ${JSON.stringify(id)}`);
  for (const id of options.ou ?? [])
    if (!OU_ID_PATTERN.test(id))
      throw new OrganizationUsageError(`--ou takes organizational unit ids such as ou-ab12-cdef3456, not ${JSON.stringify(id)}`);
  const region = await requireRegion(options);
  const endpoint = options.endpoint ? { endpoint: options.endpoint } : {};
  const sts = new sdk.sts.STSClient({ region, ...endpoint });
  let caller: string | undefined;
  try {
    caller = (await sts.send(new sdk.sts.GetCallerIdentityCommand({}))).Account;
  } catch (error) {
    if ((error as { name?: string }).name === 'CredentialsProviderError') throw new AwsAccessError(NO_CREDENTIALS);
    throw error;
  }
  if (!caller) throw new Error('STS GetCallerIdentity named no account');
  const organizations = new sdk.organizations.OrganizationsClient({ region, ...endpoint });
  let accounts: OrganizationAccount[];
  if (options.org || (options.ou?.length ?? 0) > 0) {
    try {
      accounts = await listOrganizationAccounts(organizations, org, { only: options.account, ous: options.ou });
    } catch (error) {
      throw new Error(
        `cannot list the organization's accounts (${messageOf(error)}): run from the management account or a delegated administrator, or name the accounts with --account`,
        { cause: error },
      );
    }
  } else {
    accounts = (options.account ?? []).filter((id) => !org.excludeAccounts.includes(id)).map((id) => ({ id }));
  }
  const regions = org.regions.length > 0 ? org.regions : policy.regions;
  const factory: ClientFactory = createClientFactory({
    region,
    regions,
    ...endpoint,
    credentialsProvider: assumedRoleCredentials({ hubAccount: caller, roles: org.memberRoles, sts: () => sts }),
  });
  const ous = overridesUseOus(policy);
  return {
    caller,
    accounts,
    clientsOf: (account, role, session) => factory.clientsFor({ account, role, session }),
    policyOf: async (account) =>
      policyFor(policy, { account, ...(ous ? { organizationalUnits: await organizationalUnitsOf(organizations, account) } : {}) }),
  };
}
