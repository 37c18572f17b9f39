import type { MemberRoleKind } from '../core/aws';
import type { GuardDeps } from './deps';

/**
 * The deps of the work in one account: that account's policy (overrides merged) and clients
 * (in a hub, its member role, assumed under `session`); everything else (stores, topic,
 * workflow) stays the hub's. The rest of the deps is inherited, not copied, so what is built on
 * first use stays so.
 *
 * @example const scoped = await depsForAccount(deps, finding.account, { role: 'remediate', session: findingSessionName(finding.id) })
 */
export async function depsForAccount(
  deps: GuardDeps,
  account: string | undefined,
  access: { role: MemberRoleKind; session: string; region?: string },
): Promise<GuardDeps> {
  const policy = await deps.policyFor(account);
  const clients = deps.clientsFor({ account, role: access.role, session: access.session, region: access.region });
  return Object.create(deps, { policy: { value: policy }, clients: { value: clients } }) as GuardDeps;
}
