import type { Actor } from './finding';

/**
 * Who is who, across the ways an identity shows up: an STS caller ARN
 * (`arn:aws:sts::<account>:assumed-role/<role>/<session>`), an IAM ARN from the policy
 * (`arn:aws:iam::<account>:role/<path/><role>`), a CloudTrail `userIdentity`, an email address.
 * Pure functions: the approval rules compare what these return, nothing else.
 */

interface Principal {
  partition: string;
  account: string;
  kind: 'role' | 'user' | 'root' | 'federated-user';
  /** Role or user name (the last path segment: IAM names are unique per account, paths are not part of them). */
  name: string;
  /** The role session name, for a caller that assumed a role. */
  session?: string;
}

/**
 * Parses an IAM or STS principal ARN; undefined for anything else.
 *
 * @example principalOf('arn:aws:sts::111122223333:assumed-role/SecOps/alice') // { kind: 'role', name: 'SecOps', session: 'alice', ... }
 */
export function principalOf(arn: string): Principal | undefined {
  const m = /^arn:(aws[a-z-]*):(iam|sts)::(\d{12}):(.+)$/.exec(arn);
  if (!m) return undefined;
  const [, partition, service, account, resource] = m as unknown as [string, string, string, string, string];
  if (resource === 'root') return { partition, account, kind: 'root', name: 'root' };
  const parts = resource.split('/');
  const type = parts[0];
  if (service === 'sts' && type === 'assumed-role' && parts.length === 3)
    return { partition, account, kind: 'role', name: parts[1]!, session: parts[2]! };
  if (service === 'sts' && type === 'federated-user' && parts.length === 2)
    return { partition, account, kind: 'federated-user', name: parts[1]! };
  if (service === 'iam' && (type === 'role' || type === 'user') && parts.length >= 2)
    return { partition, account, kind: type, name: parts.at(-1)! };
  return undefined;
}

/**
 * Does a caller (STS `GetCallerIdentity` ARN) match a listed IAM principal? A role session
 * matches its role's ARN, whatever the role's path; a user matches its user ARN.
 */
export function callerMatches(callerArn: string, listedArn: string): boolean {
  const caller = principalOf(callerArn);
  const listed = principalOf(listedArn);
  if (!caller || !listed || listed.session !== undefined) return false;
  return (
    caller.partition === listed.partition && caller.account === listed.account && caller.kind === listed.kind && caller.name === listed.name
  );
}

/**
 * The person-level keys of an identity, for the four-eyes rule: a role session is its session
 * (not the role, which many people share), a user its user; names (session names, user names,
 * email addresses, which IAM Identity Center uses as session names) are compared lower-cased.
 */
export function personKeys(identity: { arn?: string; userName?: string; email?: string; slackName?: string }): Set<string> {
  const keys = new Set<string>();
  const p = identity.arn ? principalOf(identity.arn) : undefined;
  if (p) {
    keys.add(`${p.partition}:${p.account}:${p.kind}:${p.name}${p.session ? `/${p.session}` : ''}`);
    if (p.session) keys.add(`name:${p.session.toLowerCase()}`);
    if (p.kind === 'user' || p.kind === 'federated-user') keys.add(`name:${p.name.toLowerCase()}`);
  }
  for (const name of [identity.userName, identity.email, identity.slackName]) if (name) keys.add(`name:${name.toLowerCase()}`);
  return keys;
}

/** The keys of the CloudTrail actor recorded on a finding. */
export function actorKeys(actor: Actor | undefined): Set<string> {
  if (!actor) return new Set();
  return personKeys({ arn: actor.arn, userName: actor.userName });
}

/** Whether two identities share a person-level key. */
export function samePerson(a: Set<string>, b: Set<string>): boolean {
  for (const key of a) if (b.has(key)) return true;
  return false;
}
