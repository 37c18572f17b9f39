import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { messageOf } from '../core/errors';
import type { Policy } from '../core/policy';
import { readInput, readWhole } from './event-input';
import { judgeItems, type JudgeContext, type Judged } from './replay-judge';

/**
 * The first half of a replay over many files, in worker threads: each worker reads whole
 * files, gunzips, splits, parses and judges them (`replay-judge.ts`) and posts the judged items
 * back; the main thread takes them file by file in input order, so output order, error lines
 * and the `--json` contract are the same as inline. At most {@link FILES_AHEAD} files per worker
 * are queued ahead of the output: memory stays flat however many files, and a slow stdout
 * holds the reading back.
 *
 * The main thread judges files too: reaching, in input order, a file no worker has begun (the
 * workers still starting, or busy), it claims the file and judges it itself rather than wait
 * (claims: one `Int32` per file in a `SharedArrayBuffer`, taken with `Atomics.compareExchange`
 * by whoever comes first, so a file is judged exactly once). The main thread thus works while
 * the workers start (about 100 ms each) and whenever they lag; it also collects and prints,
 * so {@link threadsFor} still starts one worker per core.
 */

/** Below this many files, threads cost more to start than they save. */
export const MIN_FILES_FOR_THREADS = 8;
/**
 * Files queued per worker: enough that a worker never waits for the main thread (busy judging
 * a file of its own, or descheduled on a busy machine) to hand it the next one (with 4, a
 * worker sat idle a third of a 2,000-file replay on a loaded 2-core machine; with 8, 2 %). A
 * worker reads one file at a time: what waits is file names and judged items.
 */
const FILES_AHEAD = 8;
/** A worker posts a file's judged items in parts of at most this many. */
export const POST_EVERY = 1000;

/** Who judges a file (the pool's claims, one per file): whoever changes `UNCLAIMED` first. */
export const UNCLAIMED = 0;
export const CLAIMED_BY_WORKER = 1;
const CLAIMED_BY_MAIN = 2;

/** Messages between the pool and its workers; a file the main thread claimed first comes back done and empty. */
export type ToWorker = { id: number; file: string };
export type FromWorker = { id: number; judged: Judged[]; done: boolean };
/** A worker's `workerData`: the policy, and the claims (`Int32Array` over it, indexed by file id). */
export type WorkerStart = { policy: Policy; claims: SharedArrayBuffer };

/**
 * Worker threads for `files`: `RAMPART_REPLAY_THREADS` (0: none), else, when there are files
 * enough, one per core. The main thread judges files too, but it also starts the workers,
 * collects and prints: on 2 cores, two workers beside it replayed a 2,000-file trail in a median
 * 1.70 s against 1.88 s with one (7 alternating runs each, quiet machine).
 */
export function threadsFor(files: readonly string[], env: NodeJS.ProcessEnv = process.env): number {
  const set = env.RAMPART_REPLAY_THREADS;
  if (set !== undefined && /^\d+$/.test(set)) return Number(set);
  const readable = files.filter((f) => f !== '-').length;
  const cores = availableParallelism();
  return cores > 1 && readable >= MIN_FILES_FOR_THREADS ? Math.min(cores, 8) : 0;
}

/** How the pool runs (tests): `mainJudges: false`, this thread waits for the workers; `resourceLimits` of each worker. */
export interface PoolOptions {
  mainJudges?: boolean;
  resourceLimits?: ResourceLimits;
}

/** The judged items of `files`, file by file in order: in `threads` workers and this thread, or inline when 0. */
export async function* judgedFiles(
  files: readonly string[],
  ctx: JudgeContext,
  stdin: Readable,
  threads: number,
  { mainJudges = true, resourceLimits }: PoolOptions = {},
): AsyncIterable<Judged[]> {
  if (threads === 0) {
    for (const file of files) yield* judgedInline(file, ctx, stdin, readWhole(file));
    return;
  }
  const claims = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * files.length));
  const pool = new ReplayPool(threads, { policy: ctx.policy, claims: claims.buffer as SharedArrayBuffer }, resourceLimits);
  try {
    const results = new Map<number, Channel>();
    let next = 0;
    for (let i = 0; i < files.length; i++) {
      for (; next < files.length && next < i + threads * FILES_AHEAD; next++) {
        const channel = files[next] !== '-' ? pool.submit(next, files[next]!) : undefined;
        if (channel) results.set(next, channel);
      }
      const channel = results.get(i);
      results.delete(i);
      // stdin, and a file no worker has begun (or none is left alive to): judged here, not waited for
      if (!channel || (mainJudges && Atomics.compareExchange(claims, i, UNCLAIMED, CLAIMED_BY_MAIN) === UNCLAIMED))
        yield* judgedInline(files[i]!, ctx, stdin, readWhole(files[i]!));
      else yield* channel;
    }
  } finally {
    await pool.close();
  }
}

async function* judgedInline(file: string, ctx: JudgeContext, stdin: Readable, whole: Buffer | undefined): AsyncIterable<Judged[]> {
  for await (const items of readInput(file, stdin, whole)) yield judgeItems(items, ctx);
}

/** The judged parts of one file, as the worker posts them, read once in order. */
class Channel implements AsyncIterable<Judged[]> {
  private parts: Judged[][] = [];
  private done = false;
  private wake: (() => void) | undefined;

  push(judged: Judged[], done: boolean): void {
    if (judged.length > 0) this.parts.push(judged);
    this.done ||= done;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Judged[]> {
    for (;;) {
      const part = this.parts.shift();
      if (part) yield part;
      else if (this.done) return;
      else await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}

class ReplayPool {
  private readonly workers: Array<{ worker: Worker; alive: boolean; pending: Map<number, { file: string; channel: Channel }> }> = [];

  constructor(threads: number, start: WorkerStart, resourceLimits?: ResourceLimits) {
    for (let i = 0; i < threads; i++) {
      const pending = new Map<number, { file: string; channel: Channel }>();
      const worker = startWorker(start, resourceLimits);
      const entry = { worker, alive: true, pending };
      worker.on('message', (m: FromWorker) => {
        // a file already given up for (the worker failed) takes no late parts
        const job = pending.get(m.id);
        if (!job) return;
        job.channel.push(m.judged, m.done);
        if (m.done) pending.delete(m.id);
      });
      // a worker that dies loses no input silently: each file it had begun says so in an error
      // line; those it had not begun, the main thread claims and judges itself
      const fail = (error: unknown) => {
        entry.alive = false;
        for (const [id, job] of pending) {
          job.channel.push(
            [{ file: job.file, position: 'file', error: `the replay worker failed: ${messageOf(error)}`, event: false }],
            true,
          );
          pending.delete(id);
        }
      };
      worker.on('error', fail);
      worker.on('exit', (code) => fail(`exit code ${code}`));
      this.workers.push(entry);
    }
  }

  /** Gives the file to the live worker with the fewest files in flight; `undefined` when none is alive. */
  submit(id: number, file: string): Channel | undefined {
    const alive = this.workers.filter((w) => w.alive);
    if (alive.length === 0) return undefined;
    const target = alive.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const channel = new Channel();
    target.pending.set(id, { file, channel });
    target.worker.postMessage({ id, file } satisfies ToWorker);
    return channel;
  }

  async close(): Promise<void> {
    await Promise.all(
      this.workers.map(({ worker }) => {
        worker.removeAllListeners('exit');
        return worker.terminate();
      }),
    );
  }
}

/**
 * The worker runs `replay-worker`: in the bundle (dist/, what `npx rampart` runs) its own entry
 * point beside this chunk; from the TypeScript sources (tests, tsx), through tsx's require hook.
 */
function startWorker(workerData: WorkerStart, resourceLimits?: ResourceLimits): Worker {
  if (__filename.endsWith('.mjs')) return new Worker(join(__dirname, 'replay-worker.mjs'), { workerData, resourceLimits });
  const [hook, source] = [require.resolve('tsx/cjs'), join(__dirname, 'replay-worker.ts')];
  return new Worker(`require(${JSON.stringify(hook)}); require(${JSON.stringify(source)});`, { eval: true, workerData, resourceLimits });
}
