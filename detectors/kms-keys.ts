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
