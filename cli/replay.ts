import type { Change } from '../core/control';
import type { Risk } from '../core/controls';
import { messageOf } from '../core/errors';
import { eventTimeOf, parseEvent, type RampartEvent } from '../core/events';
import type { Finding } from '../core/finding';
import type { LastKnownGoodStore } from '../core/last-known-good';
import type { Policy } from '../core/policy';
import { judgeEvent } from '../detectors/judge';
import type { EventRouter } from '../detectors/router';
import { remediatorFor } from '../remediators';
import type { InputItem } from './event-input';

/** The change of a `--plan` finding line: the SDK command's API name and its exact input. */
export interface PlannedChange {
  service: Change['service'];
  operation: string;
  region: string;
  input: Record<string, unknown>;
}

/**
 * The lines of `rampart replay --json` (DESIGN.md §7, a stable interface: extend, never break).
 * `finding` lines carry at least control, resourceArn, eventId, observed, desired; with
 * `--plan` also `risk` and `change` (or `change: null` and `reason`).
 */
export type FindingLine = { type: 'finding' } & Finding & { risk?: Risk; change?: PlannedChange | null; reason?: string };
export type ReplayLine =
  | FindingLine
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

export interface ReplayOptions {
  /** Add the planned change and its risk to every finding. */
  plan?: boolean;
  /** Compliant states seen during the replay, so plans restore them (filled as the replay goes). */
  lastKnownGood?: LastKnownGoodStore;
}

/** The planned change of a finding and its risk: the `--plan` fields of a finding line. */
export async function planned(finding: Finding, state: unknown, policy: Policy, store?: LastKnownGoodStore): Promise<Pick<FindingLine, 'risk' | 'change' | 'reason'>> {
  const remediator = remediatorFor(finding.control);
  const controlPolicy = policy.controls[finding.control];
  const lastKnownGood = store ? await store.get(finding.control, finding.resourceArn) : undefined;
  const plan = remediator.plan(finding, state, controlPolicy, lastKnownGood);
  const risk = remediator.risk(finding, controlPolicy);
  return plan.change ? { risk, change: plan.change } : { risk, change: null, reason: plan.reason };
}

/**
 * Replays events against a policy: parse → route → state from the event → evaluate (→ plan).
 * Calls `emit` for every finding, unknown and error as it goes, awaiting it when it returns a
 * promise (a slow stdout holds the reading back, so memory stays flat however long the input),
 * and returns the summary.
 */
export async function replayEvents(
  items: AsyncIterable<InputItem>,
  policy: Policy,
  router: EventRouter,
  emit: (line: ReplayLine) => void | Promise<void>,
  options: ReplayOptions = {},
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
    let event;
    let verdict;
    try {
      event = parseEvent(item.value);
      verdict = judgeEvent(event, policy, router);
    } catch (error) {
      summary.errors++;
      await emit({ type: 'error', file: item.file, position: item.position, message: messageOf(error) });
      continue;
    }
    if (verdict.matched) summary.matched++;
    for (const j of verdict.judgements) {
      switch (j.outcome) {
        case 'violation': {
          summary.findings++;
          const plan = options.plan ? await planned(j.finding, j.state, policy, options.lastKnownGood) : {};
          await emit({ type: 'finding', ...j.finding, ...plan });
          break;
        }
        case 'unknown':
          summary.unknown++;
          await emit({ type: 'unknown', control: j.control, resourceArn: j.ref.arn, eventId: j.eventId, reason: j.reason });
          break;
        case 'compliant': {
          summary.compliant++;
          if (options.lastKnownGood) await options.lastKnownGood.put(j.control, j.ref.arn, j.state, seenAt(event));
          break;
        }
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

/** When an event happened, for ordering last-known-good observations (unparseable → epoch). */
function seenAt(event: RampartEvent): Date {
  const t = Date.parse(eventTimeOf(event) ?? '');
  return new Date(Number.isNaN(t) ? 0 : t);
}
