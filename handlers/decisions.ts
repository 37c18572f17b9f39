import { resourceKey } from '../core/resource-key';
import type { Decision } from '../detectors/decide';
import { openAndStart, type OpenOutcome } from '../remediators/finding-workflow';
import type { GuardDeps } from './deps';
import { logger } from './telemetry';

/**
 * Carries a decision out online, as the detector Lambda and the sweep do: a violation opens
 * its finding and starts (or recovers) its workflow, a compliant state becomes a restore
 * point, anything else is logged. `replay` and `scan` carry the same decisions out offline
 * (cli/replay.ts).
 */
export async function carryOutOnline(decision: Decision, deps: GuardDeps): Promise<OpenOutcome | undefined> {
  switch (decision.action) {
    case 'open-finding':
      return openAndStart(decision.finding, deps);
    case 'record-last-known-good':
      await deps.lastKnownGood.put(resourceKey(decision.control, decision.ref), decision.state, deps.clock());
      return undefined;
    case 'report':
      logger.info('no finding', {
        control: decision.control,
        resource: decision.ref.arn,
        outcome: decision.outcome,
        reason: decision.reason,
      });
      return undefined;
  }
}
