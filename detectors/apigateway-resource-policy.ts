import { asObject } from './json';

/**
 * A REST API resource policy, judged for `apigateway-private-endpoint`: does it let requests in
 * only from the allowed VPC endpoints (`aws:SourceVpce`) or VPCs (`aws:SourceVpc`)? Pure.
 */

/** The sources a private API may be called from. */
export interface AllowedSources {
  vpcEndpointIds: readonly string[];
  vpcs: readonly string[];
}

type Statement = Record<string, unknown>;

/**
 * The policy document of a REST API. GetRestApi returns it as an escaped JSON string
 * (`{\"Version\":\"2012-10-17\",...\"Resource\":\"arn:...:a1b2c3\/*\"}`); CreateRestApi and
 * UpdateRestApi take (and CloudTrail records) plain JSON text: both are read. `undefined` when
 * the text is no policy document.
 */
export function parseResourcePolicy(text: string): ({ Statement: Statement[] } & Record<string, unknown>) | undefined {
  const attempt = (t: string): unknown => {
    try {
      return JSON.parse(t);
    } catch {
      return undefined;
    }
  };
  let doc = attempt(text);
  // the escaped form is the body of a JSON string literal: unescape it once, then parse
  if (doc === undefined) {
    const unescaped = attempt(`"${text}"`);
    if (typeof unescaped === 'string') doc = attempt(unescaped);
  }
  const o = asObject(doc);
  if (!o) return undefined;
  const statements = Array.isArray(o.Statement) ? o.Statement : o.Statement !== undefined ? [o.Statement] : [];
  if (!statements.every((s) => asObject(s))) return undefined;
  // every other member (Version, Id) is kept: the document is restored as it was
  return { ...o, Statement: statements as Statement[] };
}

const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);
const SOURCE_KEYS = { 'aws:sourcevpce': 'vpcEndpointIds', 'aws:sourcevpc': 'vpcs' } as const;

/** Condition keys are case-insensitive (`aws:sourceVpce` is common in real policies). */
function sourceKeyOf(key: string): keyof AllowedSources | undefined {
  return SOURCE_KEYS[key.toLowerCase() as keyof typeof SOURCE_KEYS];
}

const everyone = (principal: unknown) =>
  principal === '*' || (asObject(principal) !== undefined && list(asObject(principal)!.AWS).includes('*'));
const invokes = (action: unknown) => list(action).some((a) => a === '*' || a === 'execute-api:*' || a === 'execute-api:Invoke');
/** `execute-api:/*`, `*`, or an ARN of the API ending in `/*`: every method of every stage. */
const everyResource = (resource: unknown) =>
  list(resource).some(
    (r) => typeof r === 'string' && (r === '*' || r === 'execute-api:/*' || /^arn:[^:]+:execute-api:[^:]*:[^:]*:[^/]+\/\*$/.test(r)),
  );

/**
 * The condition restricts the statement to the allowed sources: every operator is one of
 * `operators`, every key a source key, every value allowed.
 */
function onlyAllowedSources(condition: unknown, operators: readonly string[], allowed: AllowedSources): boolean {
  const c = asObject(condition);
  if (!c || Object.keys(c).length === 0) return false;
  return Object.entries(c).every(([operator, keys]) => {
    const k = asObject(keys);
    if (!operators.includes(operator) || !k || Object.keys(k).length === 0) return false;
    return Object.entries(k).every(([key, values]) => {
      const field = sourceKeyOf(key);
      const vs = list(values);
      return field !== undefined && vs.length > 0 && vs.every((v) => typeof v === 'string' && allowed[field].includes(v));
    });
  });
}

/**
 * A Deny for everyone, on every method, unless the request comes from an allowed source
 * (`StringNotEquals` on `aws:SourceVpce`/`aws:SourceVpc` with allowed values only): with it,
 * no Allow can let anyone else in.
 */
function isSourceGuard(s: Statement, allowed: AllowedSources): boolean {
  return (
    s.Effect === 'Deny' &&
    everyone(s.Principal) &&
    s.NotPrincipal === undefined &&
    s.NotAction === undefined &&
    s.NotResource === undefined &&
    invokes(s.Action) &&
    everyResource(s.Resource) &&
    onlyAllowedSources(s.Condition, ['StringNotEquals', 'StringNotEqualsIfExists'], allowed)
  );
}

/** An Allow that only lets in requests from allowed sources (`StringEquals`; `IfExists` would let in requests without the key). */
const allowsOnlyAllowed = (s: Statement, allowed: AllowedSources) =>
  s.Effect !== 'Allow' || onlyAllowedSources(s.Condition, ['StringEquals'], allowed);

/**
 * Why the document lets in requests from other sources than the allowed ones; `undefined`
 * when it does not (a source guard Deny, or every Allow restricted to the allowed sources).
 *
 * @example problemOf({ Statement: [{ Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*' }] }, { vpcEndpointIds: ['vpce-1'], vpcs: [] })
 * // 'statement 1 allows requests from other sources'
 */
export function resourcePolicyProblem(doc: { Statement: Statement[] }, allowed: AllowedSources): string | undefined {
  if (doc.Statement.some((s) => isSourceGuard(s, allowed))) return undefined;
  const open = doc.Statement.map((s, i) => ({ s, n: i + 1 })).filter(({ s }) => !allowsOnlyAllowed(s, allowed));
  if (open.length === 0) return undefined;
  return open
    .map(({ s, n }) => `statement ${typeof s.Sid === 'string' && s.Sid ? s.Sid : n} allows requests from other sources`)
    .join('; ');
}
