/**
 * Timing whole processes, as a user runs them: wall time and CPU time (user + system, read by a
 * preloaded script at exit), median of paired runs, each figure next to its floor measured in
 * the same rounds (so a busy machine slows both alike).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from './paired';

export interface ProcessTime {
  wallMs: number;
  cpuMs: number;
}

const dir = mkdtempSync(join(tmpdir(), 'rampart-bench-cpu-'));
const CPU_REPORT = join(dir, 'cpu-report.js');
writeFileSync(
  CPU_REPORT,
  `process.on('exit', () => { const u = process.cpuUsage(); require('node:fs').writeFileSync(process.env.RAMPART_BENCH_CPU, String((u.user + u.system) / 1000)); });`,
);
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

export interface NodeRunOptions {
  cwd?: string;
  maxBuffer?: number;
  /** The Node.js binary (default: the one running the bench). */
  node?: string;
  env?: NodeJS.ProcessEnv;
}

/** Runs `node <args>` once; throws when it fails. */
export function timeNode(args: string[], options: NodeRunOptions = {}): ProcessTime & { stdout: string } {
  const cpuFile = join(dir, 'cpu.txt');
  const start = process.hrtime.bigint();
  const result = spawnSync(options.node ?? process.execPath, ['--require', CPU_REPORT, ...args], {
    cwd: options.cwd,
    encoding: 'utf8',
    maxBuffer: options.maxBuffer ?? 64 * 1024 * 1024,
    env: { ...process.env, ...options.env, RAMPART_BENCH_CPU: cpuFile },
  });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0 && result.status !== 1) throw new Error(`node ${args.join(' ')}: exit ${result.status}: ${result.stderr}`);
  return { wallMs, cpuMs: Number(readFileSync(cpuFile, 'utf8')), stdout: result.stdout };
}

/** Runs each command `rounds` times, interleaved; the median wall and CPU time of each. */
export function pairedRuns(
  commands: Record<string, string[]>,
  rounds: number,
  cwd?: string,
  options: Omit<NodeRunOptions, 'cwd'> = {},
): Record<string, ProcessTime> {
  const times: Record<string, ProcessTime[]> = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
  for (let r = 0; r < rounds; r++)
    for (const [name, args] of Object.entries(commands)) times[name]!.push(timeNode(args, { ...options, cwd }));
  return Object.fromEntries(
    Object.entries(times).map(([name, t]) => [name, { wallMs: median(t.map((x) => x.wallMs)), cpuMs: median(t.map((x) => x.cpuMs)) }]),
  );
}

/** `1.23 s (CPU 1.10 s)` or `85 ms (CPU 70 ms)`. */
export function timeText(t: ProcessTime): string {
  const f = (ms: number) => (t.wallMs >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
  return `${f(t.wallMs)} (CPU ${f(t.cpuMs)})`;
}

/** `1.18× (CPU 1.05×)`. */
export function ratioText(t: ProcessTime, floor: ProcessTime): string {
  return `${(t.wallMs / floor.wallMs).toFixed(2)}× (CPU ${(t.cpuMs / floor.cpuMs).toFixed(2)}×)`;
}
