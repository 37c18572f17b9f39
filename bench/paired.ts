/**
 * Paired measurement on a shared machine: the subject and its floor run alternately in the
 * same process, round after round, so a load spike hits both; the ratio is taken per pair and
 * the median of the ratios reported (with the median of each side).
 */
export interface Paired {
  subject: number;
  floor: number;
  /** Median over the pairs of subject / floor. */
  ratio: number;
}

export const median = (values: readonly number[]): number => quantile(values, 0.5);

/** The value below which a share `q` of `values` lies (nearest rank): p50, p99. */
export const quantile = (values: readonly number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};

/** Figures of runs made in pairs (round r of each side ran next to the other's): medians and the median of the per-pair ratios. */
export function pairedOf(subject: readonly number[], floor: readonly number[]): Paired {
  return { subject: median(subject), floor: median(floor), ratio: median(subject.map((x, i) => x / floor[i]!)) };
}

/** Runs `subject()` and `floor()` for `rounds` pairs, each going first in turn (a warming or cooling machine favours neither). */
export async function alternately<T>(
  rounds: number,
  subject: () => T | Promise<T>,
  floor: () => T | Promise<T>,
): Promise<{ subject: T[]; floor: T[] }> {
  const s: T[] = [];
  const f: T[] = [];
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      f.push(await floor());
      s.push(await subject());
    } else {
      s.push(await subject());
      f.push(await floor());
    }
  }
  return { subject: s, floor: f };
}

/** Alternates `floor()` and `subject()` (each returns a figure, e.g. seconds) for `rounds` pairs. */
export async function paired(
  rounds: number,
  subject: () => number | Promise<number>,
  floor: () => number | Promise<number>,
): Promise<Paired> {
  const runs = await alternately(rounds, subject, floor);
  return pairedOf(runs.subject, runs.floor);
}

/** `12.3 ms (floor 4.1 ms, 3.00×)` */
export function withFloor(p: Paired, unit: string, digits = 1): string {
  return `${p.subject.toFixed(digits)} ${unit} (floor ${p.floor.toFixed(digits)} ${unit}, ${p.ratio.toFixed(2)}×)`;
}
