/**
 * Per-account policy: the base policy with the `overrides` that match an account (by id, or by
 * an organizational unit it sits below) merged over it, in order. Pure: where an account sits in
 * the organization is read elsewhere (core/organization.ts) and passed in.
 */

/** Where an account is: its id, and every OU above it (nearest first; the root not included). */
export interface AccountScope {
  account?: string;
  organizationalUnits?: readonly string[];
}

/** The keys of an override as core reads them (the schema is core/policy.ts `overrideSchema`). */
export interface PolicyOverride {
  accounts?: readonly string[];
  organizationalUnits?: readonly string[];
  mode?: 'enforce' | 'dry-run';
  controls?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

interface OverridablePolicy {
  mode: 'enforce' | 'dry-run';
  overrides?: readonly PolicyOverride[];
  controls: Readonly<Partial<Record<string, unknown>>>;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Settings merged over a base: objects key by key (at any depth), anything else (lists,
 * values) replaced whole: an override's `stages` map adds stages, its `trails` list is the list.
 *
 * @example mergeSettings({ rateLimit: 100, burstLimit: 50 }, { rateLimit: 10 }) // { rateLimit: 10, burstLimit: 50 }
 */
export function mergeSettings(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) merged[key] = mergeSettings(base[key], value);
  return merged;
}

/** Whether an override applies to the account: it names the account, or an OU the account is below. */
export function overrideApplies(override: PolicyOverride, scope: AccountScope): boolean {
  if (scope.account !== undefined && override.accounts?.includes(scope.account)) return true;
  const ous = scope.organizationalUnits ?? [];
  return override.organizationalUnits?.some((ou) => ous.includes(ou)) ?? false;
}

/** Whether any override selects by OU (then the runtime must learn where each account sits). */
export function overridesUseOus(policy: OverridablePolicy): boolean {
  return (policy.overrides ?? []).some((o) => (o.organizationalUnits?.length ?? 0) > 0);
}

/**
 * The policy of one account: the base with each matching override merged over it, in the order
 * written (a later one wins). Only the enabled controls change (the schema refuses an override
 * that turns one on). The base itself when nothing matches.
 *
 * @example policyFor(policy, { account: '444455556666', organizationalUnits: ['ou-ab12-sandbox1'] }).mode // 'dry-run'
 */
export function policyFor<P extends OverridablePolicy>(policy: P, scope: AccountScope): P {
  const matching = (policy.overrides ?? []).filter((o) => overrideApplies(o, scope));
  if (matching.length === 0) return policy;
  let mode = policy.mode;
  const controls: Record<string, unknown> = { ...policy.controls };
  for (const override of matching) {
    if (override.mode) mode = override.mode;
    for (const [id, settings] of Object.entries(override.controls ?? {})) {
      if (controls[id] === undefined) continue;
      controls[id] = mergeSettings(controls[id], settings);
    }
  }
  return { ...policy, mode, controls };
}
