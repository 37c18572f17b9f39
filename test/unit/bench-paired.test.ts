import { alternately, median, pairedOf, quantile } from '../../bench/paired';

describe('the bench pairs a subject with its floor', () => {
  it('runs the two in rounds, each going first in turn', async () => {
    const order: string[] = [];
    const runs = await alternately(
      4,
      () => (order.push('subject'), order.length),
      () => (order.push('floor'), order.length),
    );

    expect(order).toEqual(['floor', 'subject', 'subject', 'floor', 'floor', 'subject', 'subject', 'floor']);
    // each side's figures in its own rounds' order
    expect(runs).toEqual({ subject: [2, 3, 6, 7], floor: [1, 4, 5, 8] });
  });

  it('reports the medians and the median of the per-round ratios, not the ratio of the medians', () => {
    const p = pairedOf([2, 4, 9], [1, 1, 3]);

    expect(p).toEqual({ subject: 4, floor: 1, ratio: 3 });
    expect(p.ratio).not.toBe(p.subject / p.floor);
  });

  it('takes quantiles by nearest rank', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);

    expect(quantile(hundred, 0.99)).toBe(100);
    expect(quantile(hundred, 0.5)).toBe(51);
    expect(median([3, 1, 2])).toBe(2);
  });
});
