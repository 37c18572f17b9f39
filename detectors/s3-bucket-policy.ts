import { asObject, type Json } from './json';

/**
 * Pure reading of S3 bucket policy documents (IAM policy grammar): what the TLS-only control
 * judges and what its fix merges into. Only what a statement certainly does counts: a
 * statement this module cannot fully read counts for nothing, never for a guess.
 */

/** A bucket policy document parsed, with its statements as a list (a policy may give one object). */
export interface PolicyDocument {
  document: Json;
  statements: Json[];
}

/**
 * The document of a bucket policy's text, or why it cannot be read.
 *
 * @example parseBucketPolicy('{"Version":"2012-10-17","Statement":[]}') // { document, statements: [] }
 */
export function parseBucketPolicy(text: string): PolicyDocument | { error: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { error: 'the bucket policy is not JSON' };
  }
  const document = asObject(parsed);
  if (!document) return { error: 'the bucket policy is not a JSON object' };
  const statement = document.Statement;
  const list = Array.isArray(statement) ? statement : statement === undefined ? [] : [statement];
  const statements = list.map(asObject);
  if (statements.some((s) => s === undefined)) return { error: 'a statement of the bucket policy is not an object' };
  return { document, statements: statements as Json[] };
}

const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);

/** `Principal: "*"` or `{"AWS": "*"}` (a list holding `*` too): everyone, anonymous callers included. */
export function isEveryone(principal: unknown): boolean {
  if (principal === '*') return true;
  return asList(asObject(principal)?.AWS).includes('*');
}

/** The statement names every S3 action (`s3:*` or `*`; IAM action names are case-insensitive). */
function coversEveryAction(action: unknown): boolean {
  return asList(action).some((a) => typeof a === 'string' && (a === '*' || a.toLowerCase() === 's3:*'));
}

/** Does an ARN pattern (IAM `*` wildcards) cover the literal `target`? `?` is read literally: that only under-counts. */
function patternCovers(pattern: string, target: string): boolean {
  const regex = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
  return regex.test(target);
}

/**
 * The condition is exactly "the request was not sent over TLS": `Bool` (or `BoolIfExists`, which
 * denies as much, `aws:SecureTransport` being always present) on `aws:SecureTransport` = false,
 * and nothing else. Another condition beside it would narrow the deny.
 */
export function isInsecureTransportCondition(condition: unknown): boolean {
  const operators = Object.entries(asObject(condition) ?? {});
  if (operators.length !== 1) return false;
  const [operator, keys] = operators[0]!;
  if (operator !== 'Bool' && operator !== 'BoolIfExists') return false;
  const entries = Object.entries(asObject(keys) ?? {});
  if (entries.length !== 1) return false;
  const [key, value] = entries[0]!;
  const values = asList(value);
  // condition key names are case-insensitive; the Bool value may be written as a string or a JSON boolean
  return (
    key.toLowerCase() === 'aws:securetransport' &&
    values.length > 0 &&
    values.every((v) => v === false || (typeof v === 'string' && v.toLowerCase() === 'false'))
  );
}

/** Is this a statement that denies every S3 action, to everyone, on requests without TLS? */
export function isTlsDeny(statement: Json): boolean {
  return (
    statement.Effect === 'Deny' &&
    statement.NotPrincipal === undefined &&
    statement.NotAction === undefined &&
    statement.NotResource === undefined &&
    isEveryone(statement.Principal) &&
    coversEveryAction(statement.Action) &&
    isInsecureTransportCondition(statement.Condition)
  );
}

/** Which of the bucket (`arn:…:bucket`) and its objects (`arn:…:bucket/*`) the policy's TLS denies cover. */
export function tlsDenyCoverage(statements: readonly Json[], bucketArn: string): { bucket: boolean; objects: boolean } {
  const resources = statements
    .filter(isTlsDeny)
    .flatMap((s) => asList(s.Resource))
    .filter((r): r is string => typeof r === 'string');
  return {
    bucket: resources.some((r) => patternCovers(r, bucketArn)),
    objects: resources.some((r) => patternCovers(r, `${bucketArn}/*`)),
  };
}
