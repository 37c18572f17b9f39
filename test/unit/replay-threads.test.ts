import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { DETECTORS } from '../../controls';
import { EventRouter } from '../../detectors/router';
import { expandPaths } from '../../cli/event-input';
import { judgeContext, type Judged } from '../../cli/replay-judge';
import { MIN_FILES_FOR_THREADS, judgedFiles, threadsFor, type PoolOptions } from '../../cli/replay-pool';
import { FIXTURES, fixture, jsonLines, policy, runCli } from '../helpers';

/**
 * A trail directory replayed in worker threads, and files read whole (one gunzip, one
 * JSON.parse when the file is one CloudTrail log), give exactly the lines of the inline,
 * streamed replay: same order, same positions, same error lines and caps, same summary.
 */
const record = (id: string) => ({
  ...fixture<{ detail: Record<string, unknown> }>('s3-DeleteBucketEncryption-constructed.json').detail,
  eventID: id,
});
const LOG = readFileSync(join(FIXTURES, 'cloudtrail-LogFile.mixed-constructed.json'));
const LOOKUP = readFileSync(join(FIXTURES, 'cloudtrail-LookupEvents.cli-output-constructed.json'));

/** Files of every layout, good and bad, as a trail directory holds them (and worse). */
function inputs(): Record<string, Buffer> {
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < 6; i++) files[`a/log-${i}.json.gz`] = gzipSync(JSON.stringify({ Records: [record(`r${i}a`), record(`r${i}b`)] }));
  files['a/log-pretty.json'] = LOG;
  files['b/lookup.json'] = LOOKUP;
  files['b/array-with-scalars.json'] = Buffer.from(JSON.stringify([record('x1'), 42, record('x2')]));
  files['b/many-bad.ndjson'] = Buffer.from(
    [...Array.from({ length: 25 }, (_, i) => `not json ${i}`), JSON.stringify(record('nd'))].join('\n'),
  );
  const cut = gzipSync(JSON.stringify({ Records: Array.from({ length: 50 }, (_, i) => record(`c${i}`)) }));
  files['c/cut.json.gz'] = cut.subarray(0, Math.floor(cut.length / 2));
  files['c/digest.json'] = Buffer.from(JSON.stringify({ awsAccountId: '111122223333', digestStartTime: 'x', logFiles: [] }));
  files['c/empty.json'] = Buffer.alloc(0);
  files['c/records-then-more.json'] = Buffer.from(JSON.stringify({ Records: [record('t1')] }) + '\n' + JSON.stringify(record('t2')));
  return files;
}

function trail(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-trail-'));
  for (const [name, bytes] of Object.entries(inputs())) {
    const path = join(dir, name);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, bytes);
  }
  return dir;
}

async function replayLines(args: string[], threads: string, stdin?: Buffer) {
  return jsonLines((await replayRun(['--json', ...args], threads, stdin)).stdout);
}

async function replayRun(args: string[], threads: string, stdin?: Buffer) {
  const before = process.env.RAMPART_REPLAY_THREADS;
  process.env.RAMPART_REPLAY_THREADS = threads;
  try {
    return await runCli(['replay', ...args], stdin);
  } finally {
    if (before === undefined) delete process.env.RAMPART_REPLAY_THREADS;
    else process.env.RAMPART_REPLAY_THREADS = before;
  }
}

describe('rampart replay of many files', () => {
  it('gives the same lines in worker threads as inline', async () => {
    const dir = trail();
    expect(Object.keys(inputs()).length).toBeGreaterThanOrEqual(MIN_FILES_FOR_THREADS);

    const inline = await replayLines([dir], '0');
    const threaded = await replayLines([dir], '2');

    expect(threaded).toEqual(inline);
    expect(inline.filter((l) => l.type === 'finding').length).toBeGreaterThan(10);
    expect(inline.filter((l) => l.type === 'error' && l.omitted === 5)).toHaveLength(1);
  });

  it.each(['table', 'csv', 'markdown', 'sarif', 'ocsf', 'asff'])(
    'writes --format %s in worker threads as inline, findings in input order',
    async (format) => {
      const dir = trail();
      const started = new Date().toISOString();
      // a document's own timestamp is the time of the run: the two runs differ only there
      const runTimes = (text: string) =>
        text
          .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, (t) => (t >= started ? '<now>' : t))
          .replace(/\b\d{13}\b/g, (ms) => (Number(ms) >= Date.parse(started) ? '<now>' : ms));
      const order = (await replayLines([dir], '0')).filter((l) => l.type === 'finding').map((l) => String(l.resourceArn));

      const inline = await replayRun(['--format', format, dir], '0');
      const threaded = await replayRun(['--format', format, dir], '2');

      expect(runTimes(threaded.stdout)).toEqual(runTimes(inline.stdout));
      expect(threaded.stderr).toEqual(inline.stderr);
      if (format === 'csv') {
        const rows = inline.stdout.trim().split('\n').slice(1);
        expect(rows).toHaveLength(order.length);
        rows.forEach((row, i) => expect(row).toContain(order[i]));
      }
    },
  );

  it.each([
    // a slow consumer lets the workers run ahead; a fast one finds files no worker has begun
    ['the workers alone', { threads: 2, mainJudges: false, slowConsumer: true }],
    ['one worker and the main thread, the worker ahead', { threads: 1, mainJudges: true, slowConsumer: true }],
    ['one worker and the main thread, the main thread ahead', { threads: 1, mainJudges: true, slowConsumer: false }],
  ])('gives the judged items of the inline read, in input order, by %s', async (_, { threads, mainJudges, slowConsumer }) => {
    const { files } = await expandPaths([trail()]);
    const ctx = judgeContext(policy(), new EventRouter(DETECTORS));
    const all = async (n: number, options: { mainJudges: boolean }) => {
      const out: Judged[] = [];
      for await (const batch of judgedFiles(files, ctx, Readable.from([]), n, options)) {
        out.push(...batch);
        if (slowConsumer && n > 0) await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return out;
    };

    const inline = await all(0, { mainJudges: true });
    const pooled = await all(threads, { mainJudges });

    expect(pooled).toEqual(inline);
    expect(inline.filter((j) => 'verdict' in j).length).toBeGreaterThan(10);
  });

  it('loses no file to a worker that dies: the main thread judges those it had not begun, the others say so', async () => {
    const { files } = await expandPaths([trail()]);
    const ctx = judgeContext(policy(), new EventRouter(DETECTORS));
    const all = async (n: number, options: PoolOptions) => {
      const out: Judged[] = [];
      for await (const batch of judgedFiles(files, ctx, Readable.from([]), n, options)) out.push(...batch);
      return out;
    };
    // a worker given 1 MB of heap runs out of memory while it starts, before it begins any file
    const dying: PoolOptions = { resourceLimits: { maxOldGenerationSizeMb: 1, maxYoungGenerationSizeMb: 1 } };

    const inline = await all(0, {});
    const mainJudging = await all(1, dying);
    const waiting = await all(1, { ...dying, mainJudges: false });

    expect(mainJudging).toEqual(inline);
    // waiting for the worker, the files handed to it come back as one error line each; the rest are judged here
    const failed = waiting.filter((j) => 'error' in j && j.error.startsWith('the replay worker failed'));
    expect(failed.length).toBeGreaterThan(0);
    expect(new Set(failed.map((j) => j.file)).size).toBe(failed.length);
    expect(waiting.filter((j) => !failed.includes(j))).toEqual(inline.filter((j) => !failed.some((f) => f.file === j.file)));
  });

  it('reads a file whole with the lines of the streamed read (stdin)', async () => {
    const dir = trail();
    for (const name of Object.keys(inputs())) {
      const path = join(dir, name);
      const whole = await replayLines([path], '0');
      const streamed = await replayLines(['-'], '0', readFileSync(path));

      expect(JSON.stringify(whole).split(JSON.stringify(path).slice(1, -1)).join('-')).toEqual(JSON.stringify(streamed));
    }
  });

  it('starts threads only when there are files enough and cores to run them', () => {
    const many = Array.from({ length: MIN_FILES_FOR_THREADS }, (_, i) => `f${i}.json.gz`);

    expect(threadsFor(many.slice(1), {})).toBe(0);
    expect(threadsFor(['-', ...many.slice(1)], {})).toBe(0);
    expect(threadsFor(many, { RAMPART_REPLAY_THREADS: '0' })).toBe(0);
    expect(threadsFor(['one.json'], { RAMPART_REPLAY_THREADS: '3' })).toBe(3);
    // one worker per core, beside the main thread (which judges files too)
    expect(threadsFor(many, {})).toBe(availableParallelism() > 1 ? Math.min(availableParallelism(), 8) : 0);
  });
});
