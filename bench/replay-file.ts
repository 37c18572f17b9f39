/**
 * Child process of the replay benchmark: replays one file and prints a JSON result, so peak
 * memory (maxRSS) is this replay's alone.
 */
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { readInput } from '../cli/event-input';
import { replayEvents } from '../cli/replay';
import { loadPolicyFile } from '../controls/policy';
import { DETECTORS } from '../controls';
import { EventRouter } from '../detectors/router';
import { DEFAULT_POLICY } from '../cli/main';
import { mixEvents, mixRecords } from './fixtures';

/**
 * About 1 MB of each layout, replayed untimed first: the 10 MB and 100 MB figures then both
 * measure the steady rate, so their ratio shows how time grows with size, not JIT warm-up.
 */
function warmUpInputs(): Buffer[] {
  const [someRecords, someEvents] = [mixRecords(), mixEvents()];
  const records = Array.from({ length: 600 }, (_, i) => someRecords[i % someRecords.length]);
  const events = Array.from({ length: 600 }, (_, i) => someEvents[i % someEvents.length]);
  return [gzipSync(JSON.stringify({ Records: records })), Buffer.from(events.map((e) => JSON.stringify(e)).join('\n'))];
}

async function main(): Promise<void> {
  const file = process.argv[2]!;
  const policy = loadPolicyFile(DEFAULT_POLICY);
  const router = new EventRouter(DETECTORS);
  for (const input of warmUpInputs()) await replayEvents(readInput('-', Readable.from([input])), policy, router, () => undefined);
  let lines = 0;
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  const summary = await replayEvents(readInput(file), policy, router, () => {
    lines++;
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  // CPU time too: on a shared machine the wall clock measures the neighbours as well
  const cpu = process.cpuUsage(cpuStart);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  process.stdout.write(
    JSON.stringify({
      seconds,
      cpuSeconds,
      events: summary.events,
      errors: summary.errors,
      findings: summary.findings,
      lines,
      maxRssKb: process.resourceUsage().maxRSS,
    }),
  );
}

void main();
