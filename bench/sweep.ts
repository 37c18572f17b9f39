import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export interface SweepFigure {
  count: number;
  perSecond: number;
  seconds: number;
  maxRssMb: number;
  violations: number;
}

/** The sweep over `count` fake resources with 20 ms per call; target ≥ 500 resources/s, flat memory. */
export function sweepFigure(count: number, latencyMs = 20): SweepFigure {
  const raw = execFileSync(process.execPath, ['--import', 'tsx', join(__dirname, 'sweep-run.ts'), String(count), String(latencyMs)], {
    encoding: 'utf8',
  });
  const r = JSON.parse(raw) as { judged: number; violations: number; seconds: number; perSecond: number; maxRssKb: number };
  if (r.judged !== count) throw new Error(`swept ${r.judged} of ${count}`);
  return { count, perSecond: r.perSecond, seconds: r.seconds, maxRssMb: r.maxRssKb / 1024, violations: r.violations };
}

if (require.main === module) {
  for (const n of [1000, 10000]) {
    const f = sweepFigure(n);
    console.log(
      `sweep ${n} resources (20 ms per call): ${Math.round(f.perSecond)} resources/s, ${f.seconds.toFixed(1)} s, peak RSS ${f.maxRssMb.toFixed(0)} MB, ${f.violations} violations`,
    );
  }
}
