import { asObject } from './json';

/**
 * Pure reading of KMS key policies (JSON text, as GetKeyPolicy returns them and CloudTrail
 * records them in PutKeyPolicy's `policy`): which statements open the key to everyone.
 */

/** Does a `Principal` name everyone: `"*"`, `{"AWS": "*"}` or a list holding `"*"`? */
function isEveryone(principal: unknown): boolean {
  if (principal === '*') return true;
  const o = asObject(principal);
  if (!o) return false;
  const aws = o.AWS;
  return aws === '*' || (Array.isArray(aws) && aws.includes('*'));
}

/** A condition block that is present and not empty. */
function hasCondition(condition: unknown): boolean {
  const o = asObject(condition);
  return o !== undefined && Object.keys(o).length > 0;
}

/**
 * The statements (by Sid, or by position) that allow everyone without a condition; `undefined`
 * when the text is not a policy document.
 *
 * @example openStatements('{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}]}') // ['#0']
 */
export function openStatements(policy: string): string[] | undefined {
  let document: unknown;
  try {
    document = JSON.parse(policy);
  } catch {
    return undefined;
  }
  const statement = asObject(document)?.Statement;
  if (statement === undefined) return undefined;
  const statements = Array.isArray(statement) ? statement : [statement];
  return statements.flatMap((s, i) => {
    const o = asObject(s);
    if (!o || o.Effect !== 'Allow' || !isEveryone(o.Principal) || hasCondition(o.Condition)) return [];
    return [typeof o.Sid === 'string' && o.Sid !== '' ? o.Sid : `#${i}`];
  });
}
