/**
 * A copy of `base` with some of its fields set, built field by field. On hot paths (each routed event,
 * each swept resource) this replaces `{ ...base, field }`: on Node.js 20 (V8 11.3) a spread
 * followed by more fields takes microseconds instead of nanoseconds (each copy gets a fresh
 * hidden class), which halved the routing bench. Keys keep their order: `base`'s, then `fields`'s.
 *
 * @example extend(ref, { account: '111122223333' })
 */
export function extend<B extends object>(base: B, fields: Partial<B>): B {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(base)) out[key] = (base as Record<string, unknown>)[key];
  for (const key of Object.keys(fields)) out[key] = (fields as Record<string, unknown>)[key];
  return out as B;
}
