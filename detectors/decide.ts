import type { Finding, ResourceRef } from '../core/finding';
import type { Judgement } from './judge';

/**
 * What to do with a judgement: the one decision path of the detector Lambda, the sweep,
 * `replay` and `scan`. Each path carries the decision out its own way (open and start a
 * workflow, or print a line), but none decides for itself.
 */
export type Decision =
  /** A violation: open the finding (deduplicated onto an open one). */
  | { action: 'open-finding'; control: string; ref: ResourceRef; finding: Finding; state: unknown }
  /** Compliant: the state is a restore point for later fixes. */
  | { action: 'record-last-known-good'; control: string; ref: ResourceRef; state: unknown }
  /** Nothing to fix, and said why: an honest `unknown`, an exemption, a resource gone. */
  | { action: 'report'; outcome: 'unknown' | 'exempt' | 'gone'; control: string; ref: ResourceRef; reason: string; eventId?: string };

/**
 * Pure: the decision for one judgement. The order in which exemptions, gone resources and
 * unknown states are told apart is `judgeObservation`'s, the only one.
 *
 * @example decide(judgeObservation(detector, ref, observation, policy, provenance)).action // 'open-finding'
 */
export function decide(judgement: Judgement): Decision {
  const { control, ref } = judgement;
  switch (judgement.outcome) {
    case 'violation':
      return { action: 'open-finding', control, ref, finding: judgement.finding, state: judgement.state };
    case 'compliant':
      return { action: 'record-last-known-good', control, ref, state: judgement.state };
    case 'unknown':
      return { action: 'report', outcome: 'unknown', control, ref, reason: judgement.reason, eventId: judgement.eventId };
    case 'exempt':
    case 'gone':
      return { action: 'report', outcome: judgement.outcome, control, ref, reason: judgement.reason };
  }
}
