/**
 * `npm run bench`: the speed and size figures of the issues, measured on this machine.
 * Parts (`npm run bench -- routing lambdas` runs those alone): routing, replay, workflow, sweep, lambdas.
 * Figures are given beside a floor measured in the same run (bench/paired.ts), so a loaded
 * machine shows in both.
 * - routing + evaluate alone (events already parsed), one core; target ≥ 50,000 events/s
 * - replay from a file (read → gunzip → split → JSON.parse → validate → route → evaluate) of a
 *   gzipped single-line CloudTrail log and of an NDJSON file, 10 MB and 100 MB each (`npm run
 *   bench -- replay` alone); targets: time linear in size (~10x), memory flat under a heap cap
 * - one low-risk finding through the local workflow; target p99 ≤ 20 ms
 * - each Lambda bundle from a real `cdk synth`: size (≤ 250 KB); the S3 detector's cold start (require + first
 *   invocation, deployed environment, SDK calls to a fake endpoint on 127.0.0.1; ≤ 120 ms) and warm p50/p99
 * - the sweep over 1k and 10k fake resources with 20 ms per call; target ≥ 500/s, flat memory
 * - the organization sweep (`org`): 1,000 accounts × 2 regions × 50 resources, 20 ms per call,
 *   through the Distributed Map model (bench/org-sweep.ts), its latency floor, the hub detector's
 *   throughput, and the cost per 1,000 accounts
 * - issue 16, each as a ratio to its floor measured in the same run (`replay-floors.ts`): replay
 *   of one 100 MB CloudTrail log (`log`), of a 2,000-file trail directory (`trail`), CLI start-up (`cli`)
 * `npm run bench -- <part>...` runs only the parts named: routing, replay, log, trail, cli, workflow,
 * sweep, org, lambdas.
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createGzip } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mixEvents, mixRecords } from './fixtures';
import { workflowLatency } from './workflow';
import { describeLambdaFigures, lambdaFigures } from './lambdas';
import { describeLoopbackSweep, loopbackSweepFigure, sweepFigure } from './sweep';
import { describeOrgSweep, orgSweepFigure } from './org-sweep';
import { cliStartFigures, largeLogFigure, trailFigure } from './replay-floors';
import { routingFigure } from './routing';

async function routingAndEvaluate(): Promise<void> {
  const { perEvent, verdicts } = await routingFigure();
  const rate = (secondsPerEvent: number) => Math.round(1 / secondsPerEvent).toLocaleString('en-US');
  console.log(
    `routing + evaluate: ${rate(perEvent.subject)} events/s (median of 9 × 200,000; target ≥ 50,000); floor (trigger lookup alone) ${rate(perEvent.floor)} events/s; ` +
      `${perEvent.ratio.toFixed(1)}× the floor's time per event [${verdicts > 0 ? 'ok' : 'no verdicts!'}]`,
  );
}

const HEAP_CAP_MB = 64;

type ReplayInput = 'gzipped single-line CloudTrail log' | 'NDJSON of EventBridge events';

/** Writes `megabytes` of replay input (uncompressed size); returns how many events it holds. */
async function writeInput(file: string, kind: ReplayInput, megabytes: number): Promise<number> {
  const gzip = kind === 'gzipped single-line CloudTrail log';
  const out = createWriteStream(file);
  const gzipper = gzip ? createGzip() : undefined;
  gzipper?.pipe(out);
  const sink: NodeJS.WritableStream = gzipper ?? out;
  const write = (s: string) => new Promise<void>((resolve) => (sink.write(s) ? resolve() : sink.once('drain', () => resolve())));
  const records = mixRecords();
  const events = mixEvents();
  let bytes = 0;
  let count = 0;
  if (gzip) bytes += (await write('{"Records":['), 12);
  while (bytes < megabytes * 1024 * 1024) {
    const text = gzip
      ? (count > 0 ? ',' : '') + JSON.stringify({ ...records[count % records.length], eventID: `bench-${count}` })
      : JSON.stringify({ ...events[count % events.length], id: `bench-${count}` }) + '\n';
    bytes += text.length;
    count++;
    await write(text);
  }
  if (gzip) await write(']}');
  await new Promise<void>((resolve) => {
    out.once('finish', () => resolve());
    sink.end();
  });
  return count;
}

async function replayFromFile(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-bench-'));
  try {
    for (const kind of ['gzipped single-line CloudTrail log', 'NDJSON of EventBridge events'] as const) {
      const seconds: number[] = [];
      const cpuSeconds: number[] = [];
      for (const mb of [10, 100]) {
        const file = join(dir, kind.startsWith('gzipped') ? `log-${mb}mb.json.gz` : `events-${mb}mb.ndjson`);
        const events = await writeInput(file, kind, mb);
        // a 64 MB heap cap: a replay that held the file, or one line of it, would die here
        const raw = execFileSync(
          process.execPath,
          [`--max-old-space-size=${HEAP_CAP_MB}`, '--import', 'tsx', join(__dirname, 'replay-file.ts'), file],
          { encoding: 'utf8' },
        );
        const r = JSON.parse(raw) as { seconds: number; cpuSeconds: number; events: number; errors: number; maxRssKb: number };
        if (r.events !== events || r.errors !== 0) throw new Error(`replayed ${r.events} of ${events} events with ${r.errors} errors`);
        const onDisk = statSync(file).size / 1024 / 1024;
        seconds.push(r.seconds);
        cpuSeconds.push(r.cpuSeconds);
        console.log(
          `replay ${String(mb).padStart(3)} MB ${kind}${kind.startsWith('gzipped') ? ` (${onDisk.toFixed(1)} MB gzipped)` : ''}: ` +
            `${r.events.toLocaleString('en-US')} events in ${r.seconds.toFixed(2)} s (CPU ${r.cpuSeconds.toFixed(2)} s) = ${Math.round(r.events / r.seconds).toLocaleString('en-US')} events/s, ` +
            `${(mb / r.seconds).toFixed(1)} MB/s, peak RSS ${(r.maxRssKb / 1024).toFixed(0)} MB under a ${HEAP_CAP_MB} MB heap cap`,
        );
        rmSync(file);
      }
      const ratio = (t: number[]) => (t[1]! / t[0]!).toFixed(1);
      console.log(`replay ${kind}: 100 MB takes ${ratio(seconds)}x the time (${ratio(cpuSeconds)}x the CPU time) of 10 MB (linear: ~10x)`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `npm run bench -- <part>...` runs only those parts (all without one). */
const PARTS = ['routing', 'replay', 'log', 'trail', 'cli', 'workflow', 'sweep', 'org', 'lambdas'] as const;
type Part = (typeof PARTS)[number];

async function main(): Promise<void> {
  console.log(`node ${process.version}, ${process.platform}/${process.arch}`);
  const asked = process.argv.slice(2);
  const unknown = asked.filter((a) => !(PARTS as readonly string[]).includes(a));
  if (unknown.length > 0) throw new Error(`no bench part ${unknown.join(', ')}; parts: ${PARTS.join(', ')}`);
  const run = (part: Part) => asked.length === 0 || asked.includes(part);
  if (run('routing')) await routingAndEvaluate();
  if (run('replay')) await replayFromFile();
  if (run('log')) await largeLogFigure();
  if (run('trail')) trailFigure();
  if (run('cli')) cliStartFigures();
  if (run('workflow')) {
    const w = await workflowLatency(1000);
    console.log(
      `workflow, one low-risk finding in process (mocked AWS): p50 ${w.p50.toFixed(2)} ms, p99 ${w.p99.toFixed(2)} ms over ${w.runs} runs (target p99 ≤ 20 ms); ` +
        `floor (the engine on the same definition, each task's result given back): p50 ${w.floorP50.toFixed(2)} ms, p99 ${w.floorP99.toFixed(2)} ms; ` +
        `ratio p50 ${(w.p50 / w.floorP50).toFixed(2)}x, p99 ${(w.p99 / w.floorP99).toFixed(2)}x`,
    );
  }
  if (run('sweep')) {
    for (const n of [1000, 10000]) {
      const f = sweepFigure(n);
      console.log(
        `sweep ${n.toLocaleString('en-US')} fake resources, 20 ms per call: ${Math.round(f.perSecond)} resources/s, peak RSS ${f.maxRssMb.toFixed(0)} MB (target ≥ 500/s, memory flat)`,
      );
    }
    console.log(`${describeLoopbackSweep(loopbackSweepFigure())} (target ≥ 90 % of the latency limit)`);
  }
  if (run('org')) for (const line of describeOrgSweep(orgSweepFigure())) console.log(line);
  if (run('lambdas')) for (const line of describeLambdaFigures(await lambdaFigures())) console.log(line);
}

void main();
