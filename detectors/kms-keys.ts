import type { AwsClients } from '../core/aws';
import { lazyModule } from '../core/sdk';
import { awsErrorName } from './aws-errors';
import { memoPerClientSet } from './cold-start-memo';

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const kmsSdk = lazyModule(() => require('@aws-sdk/client-kms') as typeof import('@aws-sdk/client-kms'));

/**
 * KMS key identifiers come in four forms: key ARN, key id, alias ARN, alias name. Two
 * identifiers of the same kind can be compared offline; a key and an alias cannot (the alias
 * resolves through KMS, in the bucket's region).
 */
type KeyIdentity = { kind: 'key'; id: string } | { kind: 'alias'; name: string };

function identify(identifier: string): KeyIdentity {
  const arn = /^arn:aws[a-z-]*:kms:[^:]*:[^:]*:(key|alias)\/(.+)$/.exec(identifier);
  if (arn) return arn[1] === 'key' ? { kind: 'key', id: arn[2]! } : { kind: 'alias', name: arn[2]! };
  if (identifier.startsWith('alias/')) return { kind: 'alias', name: identifier.slice('alias/'.length) };
  return { kind: 'key', id: identifier };
}

/**
 * @example compareKmsKeys('arn:aws:kms:us-east-1:111122223333:key/abc', 'abc') // 'same'
 * @example compareKmsKeys('alias/a', 'alias/b') // 'different'
 * @example compareKmsKeys('alias/a', 'arn:aws:kms:us-east-1:111122223333:key/abc') // 'undecidable'
 */
export function compareKmsKeys(observed: string, desired: string): 'same' | 'different' | 'undecidable' {
  if (observed === desired) return 'same';
  const a = identify(observed);
  const b = identify(desired);
  if (a.kind !== b.kind) return 'undecidable';
  const same = a.kind === 'key' ? a.id === (b as { id: string }).id : a.name === (b as { name: string }).name;
  return same ? 'same' : 'different';
}

/** True when the identifier names an alias (name or ARN): only KMS knows the key behind it. */
export function isAlias(identifier: string): boolean {
  return identify(identifier).kind === 'alias';
}

/**
 * Two key identifiers without aliases (key ARN or key id) name the same key: full ARNs must be
 * equal (a multi-region key has one id and an ARN per region), else the key ids.
 */
export function sameKey(a: string, b: string): boolean {
  if (a.startsWith('arn:') && b.startsWith('arn:')) return a === b;
  const x = identify(a);
  const y = identify(b);
  return x.kind === 'key' && y.kind === 'key' && x.id === y.id;
}

/** The key ARN an identifier names in a region, or `null` when KMS says there is no such key or alias. */
export async function describeKeyArn(clients: AwsClients, region: string, keyId: string): Promise<string | null> {
  try {
    const out = await clients.get(kmsSdk().KMSClient, region).send(new (kmsSdk().DescribeKeyCommand)({ KeyId: keyId }));
    return out.KeyMetadata?.Arn ?? null;
  } catch (error) {
    if (awsErrorName(error) === 'NotFoundException') return null;
    throw error;
  }
}

const policyKeys = memoPerClientSet<string | null>();

/**
 * The key ARN the policy's key identifier names in a region, asked of KMS once per cold start
 * and region (an alias may be pointed at another key at any time: a new cold start asks again).
 */
export function policyKeyArn(clients: AwsClients, region: string, keyId: string): Promise<string | null> {
  return policyKeys(clients, `${region}\u0000${keyId}`, () => describeKeyArn(clients, region, keyId));
}
