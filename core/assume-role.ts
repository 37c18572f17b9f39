import type { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import type { Credentials, CredentialsProvider, CredentialsScope, MemberRoleKind } from './aws';
import { messageOf } from './errors';
import { sdk } from './sdk';

/**
 * Credentials of a member account: its read or remediate role (the member stack's), assumed
 * with STS from the hub. Each (role, session name) is assumed once and kept until five minutes
 * before it expires, for every client of that account (the SDK memoises per client on top).
 */

/** STS: `RoleSessionName` is 2-64 characters of `[\w+=,.@-]`. */
const SESSION_NAME_MAX = 64;

/**
 * A role session name from a purpose: characters STS refuses become `-`, cut at 64. The member
 * account's CloudTrail shows it in every call's `userIdentity.arn`.
 *
 * @example sessionName('rampart-sweep') // 'rampart-sweep'
 */
export function sessionName(purpose: string): string {
  const name = purpose.replace(/[^\w+=,.@-]/g, '-').slice(0, SESSION_NAME_MAX);
  return name.length >= 2 ? name : `${name}--`.slice(0, 2);
}

/**
 * The session of the work on one finding: `rampart-<finding id>` (24 hex digits), so a change in
 * the member account's CloudTrail names the finding it fixed (`rampart findings show <id>`).
 */
export function findingSessionName(findingId: string): string {
  return sessionName(`rampart-${findingId.slice(0, 24)}`);
}

/** A role could not be assumed: the account is unreachable for the guard (member stack missing, SCP, trust). */
export class AssumeRoleError extends Error {
  constructor(
    readonly account: string,
    readonly roleArn: string,
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'AssumeRoleError';
  }
}

export interface AssumeRoleOptions {
  /** The hub's own account: its clients use the function's own credentials (no role to assume). */
  hubAccount?: string;
  /** The role names in every member account. */
  roles: Readonly<Record<MemberRoleKind, string>>;
  partition?: string;
  /** The STS client that assumes (the hub's region); its credentials are the hub function's. */
  sts: () => STSClient;
  clock?: () => Date;
  /** Session length; STS allows 900 s up to the role's maximum (one hour by default). */
  durationSeconds?: number;
  /** Credentials are assumed again this long before they expire. Default five minutes. */
  refreshBeforeMs?: number;
  /** Sessions kept at once (oldest dropped first): one per finding adds up in a long-lived Lambda. */
  maxSessions?: number;
}

interface Cached {
  promise: Promise<AwsCredentialIdentity>;
  expiresAt?: number;
}

/**
 * A credentials provider that assumes the member role of the account in scope, cached per role
 * and session name until shortly before expiry. A failed assumption is not kept: the next call
 * tries again.
 *
 * @example createClientFactory({ credentialsProvider: assumedRoleCredentials({ hubAccount, roles, sts: () => new STSClient({}) }) })
 */
export function assumedRoleCredentials(options: AssumeRoleOptions): CredentialsProvider {
  const clock = options.clock ?? (() => new Date());
  const refreshBefore = options.refreshBeforeMs ?? 5 * 60_000;
  const maxSessions = options.maxSessions ?? 256;
  const partition = options.partition ?? 'aws';
  const cache = new Map<string, Cached>();

  const assume = async (account: string, roleArn: string, session: string): Promise<AwsCredentialIdentity> => {
    try {
      const out = await options.sts().send(
        new sdk.sts.AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: session,
          DurationSeconds: options.durationSeconds ?? 3600,
        }),
      );
      const c = out.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error('AssumeRole returned no credentials');
      return {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
        ...(c.Expiration ? { expiration: new Date(c.Expiration) } : {}),
        accountId: account,
      };
    } catch (error) {
      const code = (error as { name?: string }).name ?? 'Error';
      throw new AssumeRoleError(account, roleArn, code, `cannot assume ${roleArn} (account ${account}): ${code}: ${messageOf(error)}`, {
        cause: error,
      });
    }
  };

  const credentialsOf = (account: string, roleArn: string, session: string): Promise<AwsCredentialIdentity> => {
    const key = `${roleArn}\n${session}`;
    const now = clock().getTime();
    const hit = cache.get(key);
    if (hit && (hit.expiresAt === undefined || hit.expiresAt - refreshBefore > now)) return hit.promise;
    const entry: Cached = { promise: assume(account, roleArn, session) };
    cache.delete(key);
    cache.set(key, entry);
    if (cache.size > maxSessions) cache.delete(cache.keys().next().value!);
    entry.promise.then(
      (c) => (entry.expiresAt = c.expiration?.getTime()),
      () => cache.get(key) === entry && cache.delete(key),
    );
    return entry.promise;
  };

  return {
    credentialsFor(scope: CredentialsScope): Credentials | undefined {
      const { account } = scope;
      if (account === undefined || account === '' || account === options.hubAccount) return undefined;
      const roleArn = `arn:${partition}:iam::${account}:role/${options.roles[scope.role ?? 'read']}`;
      const session = sessionName(scope.session ?? `rampart-${scope.role ?? 'read'}`);
      return () => credentialsOf(account, roleArn, session);
    },
  };
}
