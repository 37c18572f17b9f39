import type { AwsClients } from '../core/aws';

/**
 * A memo of online lookups per client set. The Lambdas build their client set once per cold
 * start and the CLI once per run, so a value is asked of AWS once per cold start (per run),
 * and a new cold start asks again: what it says (an alias's key, an ACL's owner) may change.
 * A failed lookup is not kept: the next caller asks again.
 *
 * @example const keyOf = memoPerClientSet<string | null>(); await keyOf(clients, `${region} ${alias}`, () => describe(alias))
 */
export function memoPerClientSet<V>(): (clients: AwsClients, key: string, load: () => Promise<V>) => Promise<V> {
  const caches = new WeakMap<AwsClients, Map<string, Promise<V>>>();
  return (clients, key, load) => {
    let cache = caches.get(clients);
    if (!cache) caches.set(clients, (cache = new Map()));
    let pending = cache.get(key);
    if (!pending) {
      const mine = load();
      pending = mine;
      cache.set(key, mine);
      mine.catch(() => {
        if (cache.get(key) === mine) cache.delete(key);
      });
    }
    return pending;
  };
}
