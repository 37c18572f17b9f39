/** A JSON object as events carry it: fields read defensively, since real records vary. */
export type Json = Record<string, unknown>;

/** The value as an object, or `undefined` for anything else (null, arrays, scalars). */
export function asObject(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}
