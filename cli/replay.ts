import type { Change } from '../core/control';
import type { ControlId, Risk } from '../core/controls';
import type { ExemptionChange } from '../core/exemptions';
import type { Finding } from '../core/finding';
import type { LastKnownGoodStore } from '../core/last-known-good';
import { findingKey, resourceKey } from '../core/resource-key';
import type { Policy } from '../core/policy';
import { decide, type Decision } from '../detectors/decide';
import type { EventRouter } from '../detectors/router';
import { remediatorFor } from '../controls';
import type { InputItem } from './event-input';
import { judgeContext, judgeItems, type Judged } from './replay-judge';

/** The change of a `--plan` finding line: the SDK command's API name and its exact input. */
export interface PlannedChange {
  service: Change['service'];
  operation: string;
  region: string;
  input: Record<string, unknown>;
  /** Calls sent after this one, in order (a method fix, then a deployment to each stage). */
  followUps?: readonly PlannedChange[];
  /** What an approver must know beyond the calls (a deployment also ships the API's other undeployed changes). */
  notice?: string;
}

/**
 * The lines of `rampart replay --json` (a stable interface, README "`--json`: a stable interface": extend, never break).
 * `finding` lines carry at least control, resourceArn, eventId, observed, desired; with
 * `--plan` also `risk` and `change` (or `change: null` and `reason`).
 */
export type FindingLine = { type: 'finding' } & Finding & { risk?: Risk; change?: PlannedChange | null; reason?: string };
export type ReplayLine =
  | FindingLine
  | { type: 'unknown'; control: string; resourceArn: string; eventId: string; reason: string }
  /** An exemption tag added or removed (who exempted what): `change`, `resourceArn`, `tagKey`, `effect`, `actor`, `eventId`... */
  | ({ type: 'exemption' } & ExemptionChange)
  /** `account`: in an organization scan, the member account the error is of (an unreachable one: `position: account <id>`). */
  | { type: 'error'; file: string; position: string; message: string; omitted?: number; account?: string };

/**
 * Error lines shown per input file; past it, one line (`position: 'file'`, `omitted: n`) counts
 * the rest, so one bad token cannot flood the terminal. The summary counts every error.
 */
export const ERROR_LINES_PER_FILE = 20;

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

/** A summary with nothing counted yet (replay's, and the base of scan's). */
export function emptySummary(): ReplaySummary {
  return { type: 'summary', events: 0, matched: 0, findings: 0, unknown: 0, errors: 0, compliant: 0, exempt: 0, files: 0 };
}

export interface ReplayOptions {
  /** Add the planned change and its risk to every finding. */
  plan?: boolean;
  /** Compliant states seen during the replay, so plans restore them (filled as the replay goes). */
  lastKnownGood?: LastKnownGoodStore;
  /** Defaults to {@link ERROR_LINES_PER_FILE}. */
  errorLinesPerFile?: number;
}

/** The planned change of a finding and its risk: the `--plan` fields of a finding line. */
export async function planned(
  finding: Finding,
  state: unknown,
  policy: Policy,
  store?: LastKnownGoodStore,
): Promise<Pick<FindingLine, 'risk' | 'change' | 'reason'>> {
  const remediator = remediatorFor(finding.control);
  const controlPolicy = policy.controls[finding.control];
  const lastKnownGood = store ? await store.get(findingKey(finding)) : undefined;
  const plan = remediator.plan(finding, state, controlPolicy, lastKnownGood);
  const risk = remediator.risk(finding, controlPolicy, plan.change ?? undefined);
  return plan.change ? { risk, change: plan.change } : { risk, change: null, reason: plan.reason };
}

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
      if (out.lastKnownGood)
        await out.lastKnownGood.put(resourceKey(decision.control as ControlId, decision.ref), decision.state, out.seenAt);
      return;
    case 'report':
      if (decision.outcome === 'unknown') {
        out.summary.unknown++;
        await out.emit({
          type: 'unknown',
          control: decision.control,
          resourceArn: decision.ref.arn,
          eventId: decision.eventId ?? '',
          reason: decision.reason,
        });
      } else if (decision.outcome === 'exempt') out.summary.exempt++;
      return;
  }
}

/**
 * Replays events against a policy: parse → route → state from the event → evaluate (→ plan).
 * Calls `emit` for every finding, unknown, exemption change and error as it goes, awaiting it when it returns a
 * promise (a slow stdout holds the reading back, so memory stays flat however long the input),
 * and returns the summary.
 */
export async function replayEvents(
  items: AsyncIterable<InputItem | InputItem[]>,
  policy: Policy,
  router: EventRouter,
  emit: (line: ReplayLine) => void | Promise<void>,
  options: ReplayOptions = {},
): Promise<ReplaySummary> {
  const ctx = judgeContext(policy, router);
  async function* judged(): AsyncIterable<Judged[]> {
    for await (const batch of items) yield judgeItems(Array.isArray(batch) ? batch : [batch], ctx);
  }
  return replayJudged(judged(), policy, emit, options);
}

/**
 * The second half of a replay (the first: `replay-judge.ts`, inline or in worker threads): the
 * judged items in input order → counts, error lines (capped per file), exemption changes,
 * findings and plans.
 */
export async function replayJudged(
  batches: AsyncIterable<Judged[]>,
  policy: Policy,
  emit: (line: ReplayLine) => void | Promise<void>,
  options: ReplayOptions = {},
): Promise<ReplaySummary> {
  const summary = emptySummary();
  const files = new Set<string>();
  const errors = errorLines(emit, options.errorLinesPerFile ?? ERROR_LINES_PER_FILE);
  for await (const batch of batches) {
    for (const item of batch) {
      files.add(item.file);
      await errors.startFile(item.file);
      if ('events' in item) {
        summary.events += item.events;
        continue;
      }
      if ('error' in item) {
        if (item.event) summary.events++;
        summary.errors++;
        await errors.report(item.file, item.position, item.error);
        continue;
      }
      summary.events++;
      const { verdict } = item;
      if (verdict.matched) summary.matched++;
      for (const change of verdict.exemptions) await emit({ type: 'exemption', ...change });
      const outlet: OfflineOutlet = {
        summary,
        emit,
        policy,
        lastKnownGood: options.lastKnownGood,
        plan: Boolean(options.plan),
        seenAt: item.seenAt,
      };
      for (const j of verdict.judgements) await carryOutOffline(decide(j), outlet);
    }
  }
  await errors.flush();
  summary.files = files.size;
  return summary;
}

/** Emits the first `cap` errors of each file, then one line counting the rest (inputs come file by file). */
function errorLines(emit: (line: ReplayLine) => void | Promise<void>, cap: number) {
  let file: string | undefined;
  let shown = 0;
  let omitted = 0;
  const flush = async () => {
    if (omitted > 0 && file !== undefined)
      await emit({ type: 'error', file, position: 'file', message: `${omitted} more errors in this file not shown`, omitted });
    omitted = 0;
  };
  const startFile = async (at: string) => {
    if (at === file) return;
    await flush();
    file = at;
    shown = 0;
  };
  const report = async (at: string, position: string, message: string) => {
    await startFile(at);
    if (shown < cap) {
      shown++;
      await emit({ type: 'error', file: at, position, message });
    } else {
      omitted++;
    }
  };
  return { startFile, report, flush };
}
