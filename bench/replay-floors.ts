/**
 * The issue-16 figures, each a ratio to a floor measured in the same rounds:
 * - `rampart replay --json` of one 100 MB CloudTrail log (1 % of the records concern a control)
 *   against a bare script that reads the file, `JSON.parse`s it and iterates the records;
 *   target ≤ 1.3×;
 * - `rampart replay --json` of a trail directory (2,000 `.json.gz` files, 148 MB uncompressed)
 *   against a bare script that reads, gunzips and parses each file in turn on one thread;
 *   target ≤ 0.8× with the worker threads on 2 cores; beside it the same floor split across one
 *   thread per core, the best a threaded replay can do on the machine as it is at the time;
 * - `rampart --help` and `replay` of a 4 KB file against `node -e 0` (Node.js start-up alone);
 *   targets ≤ 150 ms and ≤ 200 ms.
 * Both run bin/rampart.js as `npx rampart` does, so they measure the bundle in dist/ (`npm run
 * build:cli`), start-up included.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FLOOR_SCRIPT } from './floor';
import { writeCloudTrailLog, writeTrailDirectory } from './inputs';
import { pairedRuns, ratioText, timeText } from './processes';

const ROOT = join(__dirname, '..');
const RAMPART = join(ROOT, 'bin/rampart.js');

export async function largeLogFigure(megabytes = 100, rounds = 3): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-bench-log-'));
  try {
    const file = join(dir, 'log.json');
    const floor = join(dir, 'floor.js');
    writeFileSync(floor, FLOOR_SCRIPT);
    const records = await writeCloudTrailLog(file, megabytes);
    const t = pairedRuns({ floor: [floor, 'log', file], replay: [RAMPART, 'replay', '--json', file] }, rounds);
    console.log(
      `replay ${megabytes} MB CloudTrail log (${records.toLocaleString('en-US')} records, 1 % for a control): ${timeText(t.replay!)}; ` +
        `floor (read + JSON.parse + iterate) ${timeText(t.floor!)}; ratio ${ratioText(t.replay!, t.floor!)} (target ≤ 1.3×)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function trailFigure(rounds = 3): void {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-bench-trail-'));
  try {
    const trail = join(dir, 'trail');
    const { records, bytes } = writeTrailDirectory(trail);
    const floor = join(dir, 'floor.js');
    writeFileSync(floor, FLOOR_SCRIPT);
    const list = join(dir, 'files.txt');
    writeFileSync(list, [...globGz(trail)].sort().join('\n'));
    const t = pairedRuns(
      { floor: [floor, 'trail', list], parallel: [floor, 'trail-parallel', list], replay: [RAMPART, 'replay', '--json', trail] },
      rounds,
    );
    console.log(
      `replay trail of 2,000 .json.gz files (${(bytes / 1024 / 1024).toFixed(0)} MB uncompressed, ${records.toLocaleString('en-US')} records), ${availableParallelism()} cores: ` +
        `${timeText(t.replay!)}; floor (read + gunzip + JSON.parse per file, one thread) ${timeText(t.floor!)}; ratio ${ratioText(t.replay!, t.floor!)} (target ≤ 0.8×); ` +
        `the same floor in ${availableParallelism()} threads ${timeText(t.parallel!)}, ${ratioText(t.parallel!, t.floor!)} the floor (what this machine gives in parallel now)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function* globGz(dir: string): Iterable<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* globGz(path);
    else if (entry.name.endsWith('.json.gz')) yield path;
  }
}

/** One way of starting Node.js the CLI figures run under. */
interface NodeSetup {
  label: string;
  node: string;
  env: NodeJS.ProcessEnv;
}

/**
 * The Node.js setups of the CLI figures: the one running the bench with the environment as it
 * is; without `NODE_EXTRA_CA_CERTS` when it is set (Node.js 20 reads and parses every extra CA
 * certificate at start-up, before any of Rampart's code: tens of milliseconds that are the
 * machine's, not Rampart's); and `RAMPART_BENCH_NODE` when set (another Node.js binary, e.g. 22,
 * the Lambda runtime's version). Every setup runs with a compile cache directory of the bench's
 * own (bin/rampart.js turns Node's compile cache on from 22.1), filled by one untimed round, as a
 * user's second run finds it.
 */
function nodeSetups(cache: string): NodeSetup[] {
  const setups: NodeSetup[] = [{ label: 'as is', node: process.execPath, env: { NODE_COMPILE_CACHE: cache } }];
  if (process.env.NODE_EXTRA_CA_CERTS)
    setups.push({
      label: 'no NODE_EXTRA_CA_CERTS',
      node: process.execPath,
      env: { NODE_COMPILE_CACHE: cache, NODE_EXTRA_CA_CERTS: undefined },
    });
  const other = process.env.RAMPART_BENCH_NODE;
  if (other) setups.push({ label: 'RAMPART_BENCH_NODE', node: other, env: { NODE_COMPILE_CACHE: cache } });
  return setups;
}

export function cliStartFigures(rounds = 7): void {
  const small = join(ROOT, 'test/fixtures/cloudtrail-LogFile.mixed-constructed.json');
  const commands = { node: ['-e', '0'], help: [RAMPART, '--help'], replay: [RAMPART, 'replay', '--json', small] };
  const cache = mkdtempSync(join(tmpdir(), 'rampart-bench-compile-cache-'));
  try {
    for (const { label, node, env } of nodeSetups(cache)) {
      const name = `cli (node ${execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()}, ${label})`;
      pairedRuns(commands, 1, ROOT, { node, env });
      const t = pairedRuns(commands, rounds, ROOT, { node, env });
      console.log(`${name}: node start-up alone (floor) ${timeText(t.node!)}`);
      console.log(`${name}: rampart --help ${timeText(t.help!)}, ${ratioText(t.help!, t.node!)} the floor (target ≤ 150 ms)`);
      console.log(
        `${name}: rampart replay of a 4 KB log ${timeText(t.replay!)}, ${ratioText(t.replay!, t.node!)} the floor (target ≤ 200 ms)`,
      );
    }
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}
