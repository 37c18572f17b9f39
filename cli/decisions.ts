import type { LastKnownGoodStore } from '../core/last-known-good';
import type { Policy } from '../core/policy';
import type { Decision } from '../detectors/decide';
import { planned, type ReplayLine, type ReplaySummary } from './replay';

/** What carrying a decision out offline needs: where lines go, what is counted, what is kept. */
export interface OfflineOutlet {
  summary: Pick<ReplaySummary, 'findings' | 'unknown' | 'compliant' | 'exempt'>;
  emit: (line: ReplayLine) => void | Promise<void>;
  policy: Policy;
  /** Compliant states kept for later plans; none: not kept. */
  lastKnownGood?: LastKnownGoodStore;
  /** Add the planned change and its risk to finding lines. */
  plan: boolean;
  /** When the judged state was seen (the event's time, or now for a scan). */
  seenAt: Date;
}

/**
 * Carries a decision out as `replay` and `scan` do: a finding line (with its planned change),
 * an `unknown` line, a restore point kept, a count. The detector Lambda and the sweep carry the
 * same decisions out online (`handlers/`).
 */
export async function carryOutOffline(decision: Decision, out: OfflineOutlet): Promise<void> {
  switch (decision.action) {
    case 'open-finding': {
      out.summary.findings++;
      const plan = out.plan ? await planned(decision.finding, decision.state, out.policy, out.lastKnownGood) : {};
      await out.emit({ type: 'finding', ...decision.finding, ...plan });
      return;
    }
    case 'record-last-known-good':
      out.summary.compliant++;
      if (out.lastKnownGood) await out.lastKnownGood.put(decision.control as never, decision.ref.arn, decision.state, out.seenAt);
      return;
    case 'report':
      if (decision.outcome === 'unknown') {
        out.summary.unknown++;
        await out.emit({ type: 'unknown', control: decision.control, resourceArn: decision.ref.arn, eventId: decision.eventId ?? '', reason: decision.reason });
      } else if (decision.outcome === 'exempt') out.summary.exempt++;
      return;
  }
}
