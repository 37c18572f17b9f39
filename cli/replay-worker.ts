/**
 * A replay worker thread (`replay-pool.ts`): reads, gunzips, splits, parses and judges the files
 * it is given, one after the other, each one it claims before the main thread does. The pool
 * keeps the next files queued here, so the thread never waits for work; reads are synchronous
 * (see `readWhole`).
 */
import { Readable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import { DETECTORS } from '../controls';
import { EventRouter } from '../detectors/router';
import { readInput, readWhole } from './event-input';
import { CLAIMED_BY_WORKER, POST_EVERY, UNCLAIMED, type FromWorker, type ToWorker, type WorkerStart } from './replay-pool';
import { judgeContext, judgeItems, type Judged } from './replay-judge';

const port = parentPort!;
const start = workerData as WorkerStart;
const ctx = judgeContext(start.policy, new EventRouter(DETECTORS));
const claims = new Int32Array(start.claims);
let queue: Promise<void> = Promise.resolve();
const NO_STDIN = Readable.from([]);

port.on('message', (job: ToWorker) => {
  queue = queue.then(() => judgeFile(job));
});

async function judgeFile(job: ToWorker): Promise<void> {
  // the main thread got to it first (it judges the files it reaches before any worker began them)
  if (Atomics.compareExchange(claims, job.id, UNCLAIMED, CLAIMED_BY_WORKER) !== UNCLAIMED) {
    port.postMessage({ id: job.id, judged: [], done: true } satisfies FromWorker);
    return;
  }
  let judged: Judged[] = [];
  // a worker is never given stdin: no stdin stream of its own is set up (`process.stdin` would)
  for await (const items of readInput(job.file, NO_STDIN, readWhole(job.file))) {
    for (const j of judgeItems(items, ctx)) judged.push(j);
    if (judged.length >= POST_EVERY) {
      port.postMessage({ id: job.id, judged, done: false } satisfies FromWorker);
      judged = [];
    }
  }
  port.postMessage({ id: job.id, judged, done: true } satisfies FromWorker);
}
