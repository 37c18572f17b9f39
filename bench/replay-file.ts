/**
 * Child process of the replay benchmark: replays one file and prints a JSON result, so peak
 * memory (maxRSS) is this replay's alone.
 */
import { readInput } from '../cli/event-input';
import { replayEvents } from '../cli/replay';
import { loadPolicyFile } from '../core/policy';
import { DETECTORS } from '../detectors';
import { EventRouter } from '../detectors/router';
import { DEFAULT_POLICY } from '../cli/main';

async function main(): Promise<void> {
  const file = process.argv[2]!;
  const policy = loadPolicyFile(DEFAULT_POLICY);
  const router = new EventRouter(DETECTORS);
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
  process.stdout.write(JSON.stringify({ seconds, cpuSeconds, events: summary.events, errors: summary.errors, findings: summary.findings, lines, maxRssKb: process.resourceUsage().maxRSS }));
}

void main();
