import type { ControlId } from '../core/controls';
import { listOrganizationAccounts } from '../core/organization';
import { sdk } from '../core/sdk';
import { lambdaAdapter } from './adapter';
import { lazyDeps, type GuardDeps } from './deps';
import { MetricUnit, logger, metrics } from './telemetry';

/**
 * The first step of the organization sweep: the member accounts to sweep (Organizations
 * `ListAccounts`, filtered by the policy's `organization` keys) and the regions swept in each.
 * The Distributed Map of the sweep state machine runs one child execution per account.
 *
 * The hub's own account is left out: the guard's own sweep (the other branch) sweeps it, and
 * keeps the watchdog of every open finding.
 */
export interface OrgAccountsInput {
  controls: ControlId[];
  sweepId: string;
}

export interface OrgAccountsOutput {
  /** Account ids only: 15 bytes each keep 10,000 accounts well inside the 256 KB state payload limit. */
  accounts: string[];
  regions: string[];
  controls: ControlId[];
  sweepId: string;
}

export function makeOrgAccountsHandler(getDeps: () => GuardDeps) {
  return async (input: OrgAccountsInput): Promise<OrgAccountsOutput> => {
    const deps = getDeps();
    const organization = deps.policy.organization;
    if (!organization) throw new Error('the policy has no organization: the organization sweep runs only in a hub');
    const organizations = deps.clients.get(sdk.organizations.OrganizationsClient);
    const listed = await listOrganizationAccounts(organizations, organization);
    const accounts = listed.map((a) => a.id).filter((id) => id !== deps.clients.account);
    const regions =
      organization.regions.length > 0 ? organization.regions : deps.policy.regions.length > 0 ? deps.policy.regions : [deps.clients.region];
    logger.info('organization sweep: accounts in scope', { sweepId: input.sweepId, accounts: accounts.length, regions });
    metrics.addMetric('OrganizationAccounts', MetricUnit.Count, accounts.length);
    return { accounts, regions, controls: input.controls, sweepId: input.sweepId };
  };
}

export const handler = lambdaAdapter('org-accounts', makeOrgAccountsHandler(lazyDeps()));
