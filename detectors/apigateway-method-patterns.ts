import * as z from 'zod/mini';
import { lazySchema } from '../core/control';

/**
 * Method patterns of the policy, `<HTTP method> <resource path>`: `OPTIONS *` (CORS preflight
 * on every path), `GET /health`, `* /public/*`. `*` in the method matches any verb (and
 * `ANY`); in the path it matches any characters, `/` included. Verbs compare case-blind.
 */

const PATTERN = /^(\*|[A-Za-z]+) (\S+)$/;

export const methodPatternSchema = lazySchema(() =>
  z.string().check(
    z.regex(PATTERN, {
      message: 'expected "<HTTP method or *> <resource path, * for any characters>", e.g. "OPTIONS *" or "GET /health"',
    }),
  ),
);

/** How a pattern matches a method whose path may be unknown (an UpdateMethod record names only the resource id). */
export type PatternMatch = 'yes' | 'no' | 'maybe';

function pathRegex(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map(escape).join('.*')}$`);
}
const escape = (text: string) => text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');

/**
 * Does `pattern` match the method? With the path unknown, `maybe` unless the method alone
 * decides (`OPTIONS *` matches any OPTIONS method, never a GET).
 *
 * @example matchMethod('OPTIONS *', 'OPTIONS', undefined) // 'yes'
 */
export function matchMethod(pattern: string, httpMethod: string, path: string | undefined): PatternMatch {
  const m = PATTERN.exec(pattern);
  if (!m) return 'no';
  const [, verb, glob] = m as unknown as [string, string, string];
  if (verb !== '*' && verb.toUpperCase() !== httpMethod.toUpperCase()) return 'no';
  if (glob === '*') return 'yes';
  if (path === undefined) return 'maybe';
  return pathRegex(glob).test(path) ? 'yes' : 'no';
}

/** The best match of any pattern: `yes` if one matches, else `maybe` if one may, else `no`. */
export function matchAny(patterns: readonly string[], httpMethod: string, path: string | undefined): PatternMatch {
  let best: PatternMatch = 'no';
  for (const p of patterns) {
    const match = matchMethod(p, httpMethod, path);
    if (match === 'yes') return 'yes';
    if (match === 'maybe') best = 'maybe';
  }
  return best;
}
