/**
 * The floors of the replay figures: the least any replay must do, as a plain JavaScript file the
 * bench writes and runs with `node` (no tsx, no start-up of ours).
 * - `log <file>`: read the file, `JSON.parse` it whole, iterate its records;
 * - `trail <file list>`: the same per file, with gunzip, one file after the other;
 * - `trail-parallel <file list>`: the same split across one worker thread per core (files
 *   dealt round-robin, the main thread idle): what the machine gives in parallel, so that a
 *   threaded replay can be told apart from a machine too busy to run two threads at once.
 */
export const FLOOR_SCRIPT = `
const { readFileSync } = require('node:fs');
const { gunzipSync } = require('node:zlib');
const { Worker, isMainThread, workerData, parentPort } = require('node:worker_threads');
const count = (text) => { let n = 0; for (const r of JSON.parse(text).Records) if (r.eventSource) n++; return n; };
const countFiles = (files) => files.reduce((n, file) => n + count(gunzipSync(readFileSync(file)).toString('utf8')), 0);
if (!isMainThread) parentPort.postMessage(countFiles(workerData));
else {
  const [mode, arg] = process.argv.slice(2);
  const files = mode === 'log' ? [] : readFileSync(arg, 'utf8').split('\\n').filter(Boolean);
  if (mode === 'log') process.stdout.write(String(count(readFileSync(arg, 'utf8'))));
  else if (mode === 'trail') process.stdout.write(String(countFiles(files)));
  else {
    const threads = require('node:os').availableParallelism();
    let records = 0;
    let done = 0;
    for (let t = 0; t < threads; t++)
      new Worker(__filename, { workerData: files.filter((_, i) => i % threads === t) }).on('message', (n) => {
        records += n;
        if (++done === threads) process.stdout.write(String(records));
      });
  }
}
`;
