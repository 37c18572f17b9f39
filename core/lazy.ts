/**
 * A value made on its first read, then kept: a control's SDK package (`lazyModule`), its policy
 * schema (`lazySchema`), a function's clients and stores (handlers/deps.ts). What a cold start
 * never reads, it never pays for.
 *
 * @example const client = lazy(() => new SNSClient({})); client().send(command)
 */
export function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}
