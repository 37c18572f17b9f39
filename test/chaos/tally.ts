import { appendFileSync } from 'node:fs';

/**
 * The fault matrix's ledger. Each matrix case records the fault it injected and how the guard
 * came out of it; `npm run chaos` (bench/chaos.ts) runs the matrix with RAMPART_CHAOS_TALLY set
 * and sums the file into its one line. Under plain `npm test` nothing is written.
 */
export type ChaosOutcome =
  /** the guard got past the fault by itself (retry, recovery on the next event or sweep) */
  | 'recovered'
  /** not recovered, but kept: a dead-letter queue holds it or an alarm metric fired */
  | 'dead-lettered'
  /** a finding left open without a live workflow, or an outcome recorded that did not happen */
  | 'stuck';

export interface ChaosCase {
  /** where on the path: `detector`, `workflow`, `approval`, ... */
  path: string;
  /** the AWS call that failed, e.g. `dynamodb:PutItem`, `sfn:StartExecution` */
  call: string;
  /** how it failed: `throttling-once`, `5xx-once`, `timeout-once`, `lost-response`, `always` ... */
  fault: string;
  outcome: ChaosOutcome;
}

export function recordChaos(result: ChaosCase): void {
  const file = process.env.RAMPART_CHAOS_TALLY;
  if (file) appendFileSync(file, `${JSON.stringify(result)}\n`);
}
