import { keyText, type ResourceKey } from './resource-key';

/**
 * A per-resource fix budget (policy `fixBudget`; docs/architecture.md): after `maxFixes` fixes of one resource within
 * `windowMinutes`, Rampart stops fixing it and asks a human, instead of fighting another
 * automation (a pipeline that keeps undoing the fix) forever. A resource is its account, control
 * and ARN (`ResourceKey`): the same bucket name in two accounts has two budgets.
 */
export interface FixBudget {
  maxFixes: number;
  windowMinutes: number;
}

export type BudgetSpend = { granted: true; fixes: number } | { granted: false; fixes: number };

export interface FixLedger {
  /** Fixes of this resource by this control at or after `since` (a read, for the plan's early stop). */
  fixesSince(key: ResourceKey, since: Date): Promise<number>;
  /**
   * Counts one fix at `at` against the budget, atomically: granted (and counted, `fixes`
   * including it) only while the window holds fewer than `maxFixes`; refused (nothing counted)
   * otherwise. Of two racing fixes with one left, exactly one is granted; two at the same
   * millisecond count twice.
   */
  spend(key: ResourceKey, at: Date, budget: FixBudget): Promise<BudgetSpend>;
  /** Gives back a fix counted at `at` that was not made (the write failed). */
  refund(key: ResourceKey, at: Date): Promise<void>;
}

/** How long the ledger remembers a fix: a day, or twice the window when that is longer. */
export const ledgerKeepSeconds = (budget: FixBudget): number => Math.max(86_400, budget.windowMinutes * 120);

/** Pure: the fix times still inside the window that ends at `at`. */
export function inWindow(times: readonly string[], at: Date, windowMinutes: number): string[] {
  const since = new Date(at.getTime() - windowMinutes * 60_000).toISOString();
  return times.filter((t) => t >= since);
}

/** Pure: one fix at `at` against the recorded `times`: the new list when granted. */
export function spendBudget(times: readonly string[], at: Date, budget: FixBudget): BudgetSpend & { times: string[] } {
  const kept = inWindow(times, at, budget.windowMinutes);
  if (kept.length >= budget.maxFixes) return { granted: false, fixes: kept.length, times: kept };
  const next = [...kept, at.toISOString()];
  return { granted: true, fixes: next.length, times: next };
}

/** Pure: `times` without one fix at `at`. */
export function refundBudget(times: readonly string[], at: Date): string[] {
  const i = times.indexOf(at.toISOString());
  return i < 0 ? [...times] : [...times.slice(0, i), ...times.slice(i + 1)];
}

export class InMemoryFixLedger implements FixLedger {
  private readonly fixes = new Map<string, string[]>();

  async fixesSince(key: ResourceKey, since: Date): Promise<number> {
    return (this.fixes.get(keyText(key)) ?? []).filter((t) => t >= since.toISOString()).length;
  }

  // no await between the read and the write: atomic within the process
  async spend(key: ResourceKey, at: Date, budget: FixBudget): Promise<BudgetSpend> {
    const text = keyText(key);
    const { times, ...spent } = spendBudget(this.fixes.get(text) ?? [], at, budget);
    if (spent.granted) this.fixes.set(text, times);
    return spent;
  }

  async refund(key: ResourceKey, at: Date): Promise<void> {
    const text = keyText(key);
    this.fixes.set(text, refundBudget(this.fixes.get(text) ?? [], at));
  }
}
