import type { ControlId } from './controls';

/**
 * A per-resource fix budget (DESIGN.md §6): after `maxFixes` fixes of one resource within
 * `windowMinutes`, Rampart stops fixing it and asks a human, instead of fighting another
 * automation (a pipeline that keeps undoing the fix) forever.
 */
export interface FixLedger {
  /** Fixes of this resource by this control at or after `since`. */
  fixesSince(control: ControlId, resourceArn: string, since: Date): Promise<number>;
  recordFix(control: ControlId, resourceArn: string, at: Date): Promise<void>;
}

export class InMemoryFixLedger implements FixLedger {
  private readonly fixes = new Map<string, Date[]>();

  async fixesSince(control: ControlId, resourceArn: string, since: Date): Promise<number> {
    return (this.fixes.get(`${control} ${resourceArn}`) ?? []).filter((t) => t >= since).length;
  }

  async recordFix(control: ControlId, resourceArn: string, at: Date): Promise<void> {
    const key = `${control} ${resourceArn}`;
    this.fixes.set(key, [...(this.fixes.get(key) ?? []), at]);
  }
}
