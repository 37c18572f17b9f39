import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChaosCase } from '../test/chaos/tally';

/**
 * `npm run chaos`: runs the fault matrix (test/chaos) and prints one line,
 * `chaos: N faults injected, N recovered, N dead-lettered, N stuck`; exits 1 when any finding
 * was left stuck or a matrix test failed.
 */
const tally = join(mkdtempSync(join(tmpdir(), 'rampart-chaos-')), 'tally.ndjson');
const run = spawnSync('npx', ['jest', '--ci', 'test/chaos'], {
  stdio: ['ignore', 'inherit', 'inherit'],
  env: { ...process.env, RAMPART_CHAOS_TALLY: tally },
});
const cases: ChaosCase[] = existsSync(tally)
  ? readFileSync(tally, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as ChaosCase)
  : [];
const count = (outcome: ChaosCase['outcome']) => cases.filter((c) => c.outcome === outcome).length;
for (const c of cases.filter((c) => c.outcome === 'stuck')) console.error(`stuck: ${c.path} ${c.call} ${c.fault}`);
console.log(
  `chaos: ${cases.length} faults injected, ${count('recovered')} recovered, ${count('dead-lettered')} dead-lettered, ${count('stuck')} stuck`,
);
process.exit(run.status === 0 && cases.length > 0 && count('stuck') === 0 ? 0 : 1);
