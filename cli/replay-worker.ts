/**
 * A replay worker thread (`replay-pool.ts`): reads, gunzips, splits, parses and judges the files
 * it is given, one after the other. The pool keeps the next files queued here, so the thread
 * never waits for work; reads are synchronous (see `readWhole`).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Policy } from '../core/policy';
import { DETECTORS } from '../controls';
import { EventRouter } from '../detectors/router';
import { readInput, readWhole } from './event-input';
import { POST_EVERY, type FromWorker, type ToWorker } from './replay-pool';
import { judgeContext, judgeItems, type Judged } from './replay-judge';

const port = parentPort!;
const ctx = judgeContext((workerData as { policy: Policy }).policy, new EventRouter(DETECTORS));
let queue: Promise<void> = Promise.resolve();

port.on('message', (job: ToWorker) => {
  queue = queue.then(() => judgeFile(job));
});

async function judgeFile(job: ToWorker): Promise<void> {
  let judged: Judged[] = [];
  for await (const items of readInput(job.file, undefined, readWhole(job.file))) {
    for (const j of judgeItems(items, ctx)) judged.push(j);
    if (judged.length >= POST_EVERY) {
      port.postMessage({ id: job.id, judged, done: false } satisfies FromWorker);
      judged = [];
    }
  }
  port.postMessage({ id: job.id, judged, done: true } satisfies FromWorker);
}
