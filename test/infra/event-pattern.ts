/**
 * EventBridge content filtering, for tests on synthesized patterns (no package offers it
 * offline; detectors/router.ts routes by key and reads no pattern). What it follows, from the
 * EventBridge user guide ("Event patterns", "Content filtering"):
 * - every field of the pattern must match (AND); `$or` holds alternatives, each a pattern;
 * - a leaf is a list of matchers, any of which may match (OR); an array in the event matches
 *   when any of its elements does; an array of objects when any element matches the sub-pattern;
 * - matchers: a literal (exact, case-sensitive), `prefix`, `suffix`, `wildcard` (`*` any run of
 *   characters, `\*` a star), `equals-ignore-case`, `anything-but` (a value, a list, or a
 *   `prefix`/`suffix`), `exists`, `numeric`;
 * - a field missing from the event matches only `exists: false`.
 * Anything else throws, so a pattern using it is noticed rather than judged wrongly.
 */
export function matches(pattern: Record<string, unknown>, event: unknown): boolean {
  return Object.entries(pattern).every(([key, sub]) => {
    if (key === '$or') return (sub as Record<string, unknown>[]).some((alternative) => matches(alternative, event));
    const value =
      event !== null && typeof event === 'object' && !Array.isArray(event) ? (event as Record<string, unknown>)[key] : undefined;
    if (Array.isArray(sub)) return leafMatches(sub, value);
    if (sub === null || typeof sub !== 'object') throw new Error(`invalid pattern at ${key}: ${JSON.stringify(sub)}`);
    if (Array.isArray(value)) return value.some((element) => matches(sub as Record<string, unknown>, element));
    if (value === null || typeof value !== 'object') return false;
    return matches(sub as Record<string, unknown>, value);
  });
}

function leafMatches(matchers: unknown[], value: unknown): boolean {
  if (value === undefined) return matchers.some((m) => isObject(m) && 'exists' in m && m.exists === false);
  const values = Array.isArray(value) ? value : [value];
  return matchers.some((m) => (isObject(m) && 'exists' in m ? m.exists === true : values.some((v) => matcherMatches(m, v))));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function matcherMatches(matcher: unknown, value: unknown): boolean {
  if (!isObject(matcher)) return matcher === value;
  const [op, arg] = Object.entries(matcher)[0] ?? [];
  switch (op) {
    case 'prefix':
      return typeof value === 'string' && typeof arg === 'string' && value.startsWith(arg);
    case 'suffix':
      return typeof value === 'string' && typeof arg === 'string' && value.endsWith(arg);
    case 'equals-ignore-case':
      return typeof value === 'string' && typeof arg === 'string' && value.toLowerCase() === arg.toLowerCase();
    case 'wildcard':
      return typeof value === 'string' && wildcardRegExp(String(arg)).test(value);
    case 'anything-but': {
      if (isObject(arg)) return !matcherMatches(arg, value);
      const excluded = Array.isArray(arg) ? arg : [arg];
      return !excluded.includes(value);
    }
    case 'numeric':
      return typeof value === 'number' && numericMatches(arg as unknown[], value);
    default:
      throw new Error(`matcher not supported by this test matcher: ${JSON.stringify(matcher)}`);
  }
}

function wildcardRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && pattern[i + 1] === '*') {
      source += '\\*';
      i++;
    } else if (c === '*') source += '.*';
    else source += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

function numericMatches(conditions: unknown[], value: number): boolean {
  for (let i = 0; i < conditions.length; i += 2) {
    const [op, bound] = [conditions[i] as string, Number(conditions[i + 1])];
    const ok = { '=': value === bound, '<': value < bound, '<=': value <= bound, '>': value > bound, '>=': value >= bound }[op];
    if (ok === undefined) throw new Error(`numeric operator ${op}`);
    if (!ok) return false;
  }
  return true;
}
