import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { messageOf } from '../core/errors';
import type { Policy } from '../core/policy';
import { readInput, readWhole } from './event-input';
import { judgeItems, type JudgeContext, type Judged } from './replay-judge';

/**
 * The first half of a replay over many files, in worker threads: each worker reads whole
 * files (the next ones prefetched while it judges the current), gunzips, splits, parses and
 * judges them (`replay-judge.ts`) and posts the judged items back; the main thread takes them
 * file by file in input order, so output order, error lines and the `--json` contract are the
 * same as inline. At most {@link FILES_AHEAD} files per worker are in flight: memory stays flat
 * however many files, and a slow stdout holds the reading back.
 */

/** Below this many files, threads cost more to start than they save. */
export const MIN_FILES_FOR_THREADS = 8;
const FILES_AHEAD = 2;
/** A worker posts a file's judged items in parts of at most this many. */
export const POST_EVERY = 1000;

/** Messages between the pool and its workers. */
export type ToWorker = { id: number; file: string };
export type FromWorker = { id: number; judged: Judged[]; done: boolean };

/** Worker threads for `files`: `RAMPART_REPLAY_THREADS` (0: none), else one per core when there are files enough. */
export function threadsFor(files: readonly string[], env: NodeJS.ProcessEnv = process.env): number {
  const set = env.RAMPART_REPLAY_THREADS;
  if (set !== undefined && /^\d+$/.test(set)) return Number(set);
  const readable = files.filter((f) => f !== '-').length;
  const cores = availableParallelism();
  return cores > 1 && readable >= MIN_FILES_FOR_THREADS ? Math.min(cores, 8) : 0;
}

/** The judged items of `files`, file by file in order: in `threads` workers, or inline when 0. */
export async function* judgedFiles(files: readonly string[], ctx: JudgeContext, stdin: Readable, threads: number): AsyncIterable<Judged[]> {
  if (threads === 0) {
    for (const file of files) yield* judgedInline(file, ctx, stdin, readWhole(file));
    return;
  }
  const pool = new ReplayPool(threads, ctx.policy);
  try {
    const results = new Map<number, Channel>();
    let next = 0;
    for (let i = 0; i < files.length; i++) {
      for (; next < files.length && next < i + threads * FILES_AHEAD; next++)
        if (files[next] !== '-') results.set(next, pool.submit(next, files[next]!));
      if (files[i] === '-') {
        yield* judgedInline('-', ctx, stdin, undefined);
        continue;
      }
      yield* results.get(i)!;
      results.delete(i);
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
  private readonly workers: Array<{ worker: Worker; pending: Map<number, { file: string; channel: Channel }> }> = [];

  constructor(threads: number, policy: Policy) {
    for (let i = 0; i < threads; i++) {
      const pending = new Map<number, { file: string; channel: Channel }>();
      const worker = startWorker(policy);
      worker.on('message', (m: FromWorker) => {
        const job = pending.get(m.id)!;
        job.channel.push(m.judged, m.done);
        if (m.done) pending.delete(m.id);
      });
      // a worker that dies loses no input silently: each of its files says so in an error line
      const fail = (error: unknown) => {
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
      this.workers.push({ worker, pending });
    }
  }

  /** Gives the file to the worker with the fewest files in flight. */
  submit(id: number, file: string): Channel {
    const target = this.workers.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
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
function startWorker(policy: Policy): Worker {
  const workerData = { policy };
  if (__filename.endsWith('.mjs')) return new Worker(join(__dirname, 'replay-worker.mjs'), { workerData });
  const [hook, source] = [require.resolve('tsx/cjs'), join(__dirname, 'replay-worker.ts')];
  return new Worker(`require(${JSON.stringify(hook)}); require(${JSON.stringify(source)});`, { eval: true, workerData });
}
