import { messageOf } from '../core/errors';
import { parseEvent } from '../core/events';
import type { Policy } from '../core/policy';
import { judgeEvent } from '../detectors/judge';
import type { EventRouter } from '../detectors/router';
import type { InputItem } from './event-input';

/**
 * The lines of `rampart replay --json` (DESIGN.md §7, a stable interface: extend, never break).
 * `finding` lines carry at least control, resourceArn, eventId, observed, desired.
 */
export type ReplayLine =
  | ({ type: 'finding' } & Record<string, unknown> & {
      control: string;
      resourceArn: string;
      eventId: string;
      observed: unknown;
      desired: unknown;
    })
  | { type: 'unknown'; control: string; resourceArn: string; eventId: string; reason: string }
  | { type: 'error'; file: string; position: string; message: string };

export interface ReplaySummary {
  type: 'summary';
  /** Events read (well-formed or not). */
  events: number;
  /** Events that concerned at least one enabled control. */
  matched: number;
  findings: number;
  unknown: number;
  /** Malformed events and unreadable inputs. */
  errors: number;
  compliant: number;
  exempt: number;
  files: number;
}

/**
 * Replays events against a policy: parse → route → state from the event → evaluate. Calls
 * `emit` for every finding, unknown and error as it goes, awaiting it when it returns a
 * promise (a slow stdout holds the reading back, so memory stays flat however long the input),
 * and returns the summary.
 */
export async function replayEvents(
  items: AsyncIterable<InputItem>,
  policy: Policy,
  router: EventRouter,
  emit: (line: ReplayLine) => void | Promise<void>,
): Promise<ReplaySummary> {
  const summary: ReplaySummary = { type: 'summary', events: 0, matched: 0, findings: 0, unknown: 0, errors: 0, compliant: 0, exempt: 0, files: 0 };
  const files = new Set<string>();
  for await (const item of items) {
    files.add(item.file);
    if ('error' in item) {
      if (item.position !== 'file') summary.events++;
      summary.errors++;
      await emit({ type: 'error', file: item.file, position: item.position, message: item.error });
      continue;
    }
    summary.events++;
    let verdict;
    try {
      verdict = judgeEvent(parseEvent(item.value), policy, router);
    } catch (error) {
      summary.errors++;
      await emit({ type: 'error', file: item.file, position: item.position, message: messageOf(error) });
      continue;
    }
    if (verdict.matched) summary.matched++;
    for (const j of verdict.judgements) {
      switch (j.outcome) {
        case 'violation':
          summary.findings++;
          await emit({ type: 'finding', ...j.finding });
          break;
        case 'unknown':
          summary.unknown++;
          await emit({ type: 'unknown', control: j.control, resourceArn: j.ref.arn, eventId: j.eventId, reason: j.reason });
          break;
        case 'compliant':
          summary.compliant++;
          break;
        case 'exempt':
          summary.exempt++;
          break;
        case 'gone':
          break;
      }
    }
  }
  summary.files = files.size;
  return summary;
}
