import { costOf, makespanMs } from '../../bench/org-sweep';

describe("the organization sweep's Distributed Map model (bench)", () => {
  it('schedules each account as soon as a slot frees, never more than maxConcurrency at once', () => {
    expect(makespanMs([100, 100, 100, 100], 2)).toBe(200);
    expect(makespanMs([300, 100, 100, 100], 2)).toBe(300);
    expect(makespanMs([50, 50, 50], 10)).toBe(50);
    expect(
      makespanMs(
        Array.from({ length: 1000 }, () => 10),
        40,
      ),
    ).toBe(250);
  });

  it('counts a page per account and control, a child execution per account, and the transitions of the definition', () => {
    const c = costOf(1000, 3, 1000, 10, 0.5);
    expect(c.lambdaInvocations).toBe(3001);
    expect(c.childExecutions).toBe(1000);
    expect(c.lambdaGbSeconds).toBe(1500);
    expect(c.stateTransitions).toBe(1000 * 11 + 19);
    expect(c.eventsForwardedPerMonth).toBe(300_000);
  });
});
