import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { loadPolicyFile } from '../controls/policy';
import { SWEEP_MEMORY_MB } from '../infra/constructs/periodic-sweep';
import { median } from './paired';

/**
 * The organization sweep at scale, through the model of the Distributed Map: each child
 * execution (one member account) is a Lambda of its own in AWS, so what one account's sweep
 * costs is measured for real (bench/org-sweep-run.ts: the hub's sweep handler, STS into the
 * account, every call 20 ms), and the organization's sweep is those accounts scheduled
 * `maxConcurrency` at a time (the policy's), as the Distributed Map runs them.
 *
 * The floor is the latency limit of the same work: every call of every resource at 20 ms, the
 * page's reads `sweep.concurrency` at a time, `maxConcurrency` accounts at once.
 */

export interface OrgSweepFigure {
  accounts: number;
  resourcesPerAccount: number;
  maxConcurrency: number;
  /** Measured: one account's page, median wall and CPU. */
  accountWallMs: number;
  accountCpuMs: number;
  /** The model: the whole organization. */
  seconds: number;
  perSecond: number;
  floorSeconds: number;
  peakRssMb: number;
  /** The hub's detector, one event at a time per instance: median wall and CPU per event. */
  eventWallMs: number;
  eventCpuMs: number;
  cost: OrgSweepCost;
}

/** What one sweep of 1,000 accounts and a month of forwarded events cost (list prices, us-east-1, arm64). */
export interface OrgSweepCost {
  lambdaInvocations: number;
  lambdaGbSeconds: number;
  childExecutions: number;
  stateTransitions: number;
  dollarsPerSweep: number;
  /** At `eventsPerAccountPerDay` matching events forwarded from each account. */
  eventsForwardedPerMonth: number;
  detectorInvocationsPerMonth: number;
  dollarsPerMonthOfEvents: number;
}

const PRICE = {
  lambdaRequest: 0.2 / 1e6,
  lambdaGbSecondArm: 0.0000133334,
  stateTransition: 0.025 / 1000,
  customEvent: 1.0 / 1e6,
};

/** The makespan of `durations` (ms) run `slots` at a time, each started as soon as a slot frees (a Distributed Map's scheduling). */
export function makespanMs(durations: readonly number[], slots: number): number {
  const free = Array.from({ length: Math.max(1, slots) }, () => 0);
  for (const d of durations) {
    let i = 0;
    for (let j = 1; j < free.length; j++) if (free[j]! < free[i]!) i = j;
    free[i]! += d;
  }
  return Math.max(...free);
}

export function orgSweepFigure(
  options: { accounts?: number; perRegion?: number; sampled?: number; latencyMs?: number } = {},
): OrgSweepFigure {
  const accounts = options.accounts ?? 1000;
  const perRegion = options.perRegion ?? 50;
  const sampled = options.sampled ?? 20;
  const latency = options.latencyMs ?? 20;
  const policy = loadPolicyFile(join(__dirname, '..', 'examples', 'organization.config.yaml'), { deploy: true });
  const maxConcurrency = policy.organization!.sweep.maxConcurrency;
  const raw = execFileSync(
    process.execPath,
    ['--import', 'tsx', join(__dirname, 'org-sweep-run.ts'), String(sampled), String(perRegion), String(latency), '200'],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const result = raw.split('\n').find((line) => line.startsWith('RESULT '));
  if (!result) throw new Error(`the organization sweep run printed no result: ${raw.slice(-500)}`);
  const run = JSON.parse(result.slice('RESULT '.length)) as {
    perAccount: Array<{ wallMs: number; cpuMs: number; resources: number; calls: number }>;
    perEvent: Array<{ wallMs: number; cpuMs: number }>;
    maxRssKb: number;
  };
  const resourcesPerAccount = run.perAccount[0]!.resources;
  if (run.perAccount.some((a) => a.resources !== 2 * perRegion)) throw new Error('an account was not swept whole');
  // the measured accounts stand for the organization's, round robin (the first pays the cold clients: kept in)
  const durations = Array.from({ length: accounts }, (_, i) => run.perAccount[i % run.perAccount.length]!.wallMs);
  const seconds = makespanMs(durations, maxConcurrency) / 1000;
  // the latency limit: entering the account and the listing one after the other, then the reads
  // of the resources `sweep.concurrency` at a time (the calls counted in the run)
  const reads = median(run.perAccount.map((a) => a.calls)) - 2;
  const perAccountFloorMs = (reads / policy.sweep.concurrency) * latency + 2 * latency;
  const floorSeconds = (Math.ceil(accounts / maxConcurrency) * perAccountFloorMs) / 1000;
  const accountWallMs = median(run.perAccount.map((a) => a.wallMs));
  const accountCpuMs = median(run.perAccount.map((a) => a.cpuMs));
  return {
    accounts,
    resourcesPerAccount,
    maxConcurrency,
    accountWallMs,
    accountCpuMs,
    seconds,
    perSecond: (accounts * resourcesPerAccount) / seconds,
    floorSeconds,
    peakRssMb: run.maxRssKb / 1024,
    eventWallMs: median(run.perEvent.map((e) => e.wallMs)),
    eventCpuMs: median(run.perEvent.map((e) => e.cpuMs)),
    cost: costOf(accounts, Object.keys(policy.controls).length, accountWallMs, 10),
  };
}

/**
 * The cost of one organization sweep and of a month of events, counted from the definition:
 * each child execution makes 2 + 3 × controls state transitions (the controls' Map, per control
 * a page, the choice and the end, the account's end), the parent ~10; one page per control when
 * an account's control is swept in under 15 minutes. The sweep function has SWEEP_MEMORY_MB.
 */
export function costOf(
  accounts: number,
  controls: number,
  pageMs: number,
  eventsPerAccountPerDay: number,
  memoryGb = SWEEP_MEMORY_MB / 1024,
): OrgSweepCost {
  const pages = accounts * controls;
  const lambdaInvocations = pages + 1;
  const lambdaGbSeconds = pages * (pageMs / 1000) * memoryGb;
  const stateTransitions = accounts * (2 + 3 * controls) + 10 + 3 * controls;
  const dollarsPerSweep =
    lambdaInvocations * PRICE.lambdaRequest + lambdaGbSeconds * PRICE.lambdaGbSecondArm + stateTransitions * PRICE.stateTransition;
  const eventsForwardedPerMonth = accounts * eventsPerAccountPerDay * 30;
  // one detector invocation per forwarded event (256 MB, ~the measured wall), and the event itself
  const dollarsPerMonthOfEvents =
    eventsForwardedPerMonth * (PRICE.customEvent + PRICE.lambdaRequest + 0.25 * 0.1 * PRICE.lambdaGbSecondArm);
  return {
    lambdaInvocations,
    lambdaGbSeconds,
    childExecutions: accounts,
    stateTransitions,
    dollarsPerSweep,
    eventsForwardedPerMonth,
    detectorInvocationsPerMonth: eventsForwardedPerMonth,
    dollarsPerMonthOfEvents,
  };
}

export function describeOrgSweep(f: OrgSweepFigure): string[] {
  const c = f.cost;
  return [
    `organization sweep, ${f.accounts.toLocaleString('en-US')} accounts × 2 regions × ${f.resourcesPerAccount / 2} resources, 20 ms per call, Distributed Map of ${f.maxConcurrency} accounts at once: ${f.seconds.toFixed(0)} s, ${Math.round(f.perSecond)} resources/s; latency floor ${f.floorSeconds.toFixed(0)} s (${(f.seconds / f.floorSeconds).toFixed(2)}x); one account's page ${f.accountWallMs.toFixed(0)} ms wall, ${f.accountCpuMs.toFixed(0)} ms CPU; peak RSS of the page process ${f.peakRssMb.toFixed(0)} MB`,
    `hub detector, events from member accounts: ${f.eventWallMs.toFixed(1)} ms wall, ${f.eventCpuMs.toFixed(2)} ms CPU per event per instance (${Math.round(1000 / f.eventWallMs)} events/s per instance; ${Math.round((1000 * 1000) / f.eventWallMs).toLocaleString('en-US')}/s at the default 1,000 concurrent executions)`,
    `cost per 1,000 accounts, one sweep: ${c.lambdaInvocations.toLocaleString('en-US')} invocations, ${c.lambdaGbSeconds.toFixed(0)} GB-s, ${c.childExecutions} child executions, ${c.stateTransitions.toLocaleString('en-US')} state transitions ≈ $${c.dollarsPerSweep.toFixed(2)}; a month at 10 matching events per account per day: ${c.eventsForwardedPerMonth.toLocaleString('en-US')} events forwarded and detector invocations ≈ $${c.dollarsPerMonthOfEvents.toFixed(2)}`,
  ];
}

if (require.main === module) for (const line of describeOrgSweep(orgSweepFigure())) console.log(line);
