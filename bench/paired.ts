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

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

/** Alternates `floor()` and `subject()` (each returns a figure, e.g. seconds) for `rounds` pairs. */
export async function paired(
  rounds: number,
  subject: () => number | Promise<number>,
  floor: () => number | Promise<number>,
): Promise<Paired> {
  const s: number[] = [];
  const f: number[] = [];
  for (let r = 0; r < rounds; r++) {
    // alternate who goes first: a warming or cooling machine favours neither
    if (r % 2 === 0) {
      f.push(await floor());
      s.push(await subject());
    } else {
      s.push(await subject());
      f.push(await floor());
    }
  }
  return { subject: median(s), floor: median(f), ratio: median(s.map((x, i) => x / f[i]!)) };
}

/** `12.3 ms (floor 4.1 ms, 3.00×)` */
export function withFloor(p: Paired, unit: string, digits = 1): string {
  return `${p.subject.toFixed(digits)} ${unit} (floor ${p.floor.toFixed(digits)} ${unit}, ${p.ratio.toFixed(2)}×)`;
}
