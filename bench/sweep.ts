import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { median, pairedOf } from './paired';

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

export interface LoopbackSweepFigure {
  count: number;
  concurrency: number;
  /** Alternating rounds of the sweep and the floor; each figure is the median of its side's. */
  rounds: number;
  /** Rampart's sweep: resources/s and CPU ms per resource. */
  perSecond: number;
  cpuMsPerResource: number;
  /** The same calls from a bare S3 client, same run. */
  floorPerSecond: number;
  floorCpuMsPerResource: number;
  /** Median over the rounds of the sweep's CPU per resource ÷ the floor's. */
  cpuRatio: number;
  /** `concurrency` resources in flight, one 20 ms round trip each (both reads at once). */
  latencyLimitPerSecond: number;
  maxRssMb: number;
}

/**
 * The sweep with the real SDK against the fake endpoint on 127.0.0.1 (a process of its own, 20 ms
 * a call): serialization, signing, endpoint rules and XML parsing all paid, as in Lambda.
 */
export function loopbackSweepFigure(count = 2000, latencyMs = 20, concurrency = 32): LoopbackSweepFigure {
  const raw = execFileSync(
    process.execPath,
    ['--import', 'tsx', join(__dirname, 'sweep-loopback-run.ts'), String(count), String(latencyMs), String(concurrency)],
    { encoding: 'utf8' },
  );
  type Run = { resources: number; seconds: number; cpuMs: number };
  const r = JSON.parse(raw.trim().split('\n').at(-1)!) as { rampart: Run[]; floor: Run[]; maxRssKb: number };
  const rate = (runs: Run[]) => median(runs.map((x) => x.resources / x.seconds));
  const perResource = (runs: Run[]) => runs.map((x) => x.cpuMs / x.resources);
  const cpu = (runs: Run[]) => median(perResource(runs));
  return {
    count,
    concurrency,
    rounds: r.rampart.length,
    perSecond: rate(r.rampart),
    cpuMsPerResource: cpu(r.rampart),
    floorPerSecond: rate(r.floor),
    floorCpuMsPerResource: cpu(r.floor),
    cpuRatio: pairedOf(perResource(r.rampart), perResource(r.floor)).ratio,
    latencyLimitPerSecond: concurrency / (latencyMs / 1000),
    maxRssMb: r.maxRssKb / 1024,
  };
}

export function describeLoopbackSweep(f: LoopbackSweepFigure): string {
  return (
    `sweep with the real SDK, ${f.count.toLocaleString('en-US')} buckets on a loopback endpoint (20 ms a call, ${f.concurrency} at once; medians of ${f.rounds} alternating rounds): ` +
    `${Math.round(f.perSecond)} resources/s = ${((100 * f.perSecond) / f.latencyLimitPerSecond).toFixed(0)} % of the latency limit (${f.latencyLimitPerSecond}/s), ` +
    `${f.cpuMsPerResource.toFixed(2)} ms CPU per resource; floor (bare S3 client with the SDK's middleware cache, same calls): ${Math.round(f.floorPerSecond)}/s, ` +
    `${f.floorCpuMsPerResource.toFixed(2)} ms CPU per resource (${f.cpuRatio.toFixed(2)}x); ` +
    `one vCPU sustains ${Math.round(1000 / f.cpuMsPerResource)} resources/s; peak RSS ${f.maxRssMb.toFixed(0)} MB`
  );
}

if (require.main === module) {
  console.log(describeLoopbackSweep(loopbackSweepFigure()));
  for (const n of [1000, 10000]) {
    const f = sweepFigure(n);
    console.log(
      `sweep ${n} resources (20 ms per call): ${Math.round(f.perSecond)} resources/s, ${f.seconds.toFixed(1)} s, peak RSS ${f.maxRssMb.toFixed(0)} MB, ${f.violations} violations`,
    );
  }
}
