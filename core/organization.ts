import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import type { Policy } from './policy';
import { sdk } from './sdk';

/**
 * The organization's accounts, as the organization sweep and `rampart scan --org` take them:
 * read with Organizations (from the management or delegated-administrator account) and
 * filtered by the policy's `organization` keys. The reads are here; the filter is pure.
 */

export type OrganizationPolicy = NonNullable<Policy['organization']>;

export interface OrganizationAccount {
  id: string;
  name?: string;
}

/** An account Organizations lists: only active ones are swept (suspended or closing accounts refuse the role). */
interface ListedAccount {
  Id?: string;
  Name?: string;
  /** `Status` retires in 2026 for `State`; either may be the one present. */
  State?: string;
  Status?: string;
}

const isActive = (a: ListedAccount) => (a.State ?? a.Status) === 'ACTIVE';

/**
 * Pure: the accounts the policy takes, in listing order. `below` holds the accounts below the
 * policy's OUs (when it names any); `only` narrows further (the CLI's `--account`).
 */
export function accountsInScope(
  listed: readonly ListedAccount[],
  org: OrganizationPolicy,
  below?: ReadonlySet<string>,
  only?: readonly string[],
): OrganizationAccount[] {
  return listed.flatMap((a) => {
    if (!a.Id || !isActive(a)) return [];
    if (org.accounts !== 'all' && !org.accounts.includes(a.Id)) return [];
    if (org.excludeAccounts.includes(a.Id)) return [];
    if (below && !below.has(a.Id)) return [];
    if (only && only.length > 0 && !only.includes(a.Id)) return [];
    return [{ id: a.Id, ...(a.Name ? { name: a.Name } : {}) }];
  });
}

/** Every account below these OUs, at any depth (ListAccountsForParent, ListOrganizationalUnitsForParent). */
export async function accountsBelow(org: OrganizationsClient, ous: readonly string[]): Promise<Set<string>> {
  const { paginateListAccountsForParent, paginateListOrganizationalUnitsForParent } = sdk.organizations;
  const accounts = new Set<string>();
  const queue = [...ous];
  const seen = new Set<string>();
  while (queue.length > 0) {
    const parent = queue.shift()!;
    if (seen.has(parent)) continue;
    seen.add(parent);
    for await (const page of paginateListAccountsForParent({ client: org }, { ParentId: parent }))
      for (const a of page.Accounts ?? []) if (a.Id) accounts.add(a.Id);
    for await (const page of paginateListOrganizationalUnitsForParent({ client: org }, { ParentId: parent }))
      for (const ou of page.OrganizationalUnits ?? []) if (ou.Id) queue.push(ou.Id);
  }
  return accounts;
}

/**
 * The accounts to guard: ListAccounts, filtered by the policy (`accounts`, `organizationalUnits`,
 * `excludeAccounts`, active only) and by `only` (account ids) and `ous` (more OUs) when given.
 */
export async function listOrganizationAccounts(
  org: OrganizationsClient,
  policy: OrganizationPolicy,
  filters: { only?: readonly string[]; ous?: readonly string[] } = {},
): Promise<OrganizationAccount[]> {
  const listed: ListedAccount[] = [];
  for await (const page of sdk.organizations.paginateListAccounts({ client: org }, {})) listed.push(...(page.Accounts ?? []));
  let below: Set<string> | undefined;
  for (const ous of [policy.organizationalUnits, filters.ous ?? []]) {
    if (ous.length === 0) continue;
    const these = await accountsBelow(org, ous);
    below = below ? new Set([...below].filter((a) => these.has(a))) : these;
  }
  return accountsInScope(listed, policy, below, filters.only);
}

/** The OUs above an account, nearest first, the root left out (ListParents up to the root): for OU overrides. */
export async function organizationalUnitsOf(org: OrganizationsClient, account: string): Promise<string[]> {
  const ous: string[] = [];
  let child = account;
  // an organization is at most five OUs deep; the bound guards against a cycle in a fake
  for (let depth = 0; depth < 10; depth++) {
    const out = await org.send(new sdk.organizations.ListParentsCommand({ ChildId: child }));
    const parent = out.Parents?.[0];
    if (!parent?.Id || parent.Type !== 'ORGANIZATIONAL_UNIT') break;
    ous.push(parent.Id);
    child = parent.Id;
  }
  return ous;
}
