import { messageOf } from '../core/errors';
import { eventTimeOf, parseEvent, type RampartEvent } from '../core/events';
import type { Policy } from '../core/policy';
import { judgeEvent, type EventVerdict } from '../detectors/judge';
import { RawRouter } from '../detectors/raw-route';
import type { EventRouter } from '../detectors/router';
import type { InputItem } from './event-input';

/**
 * The first, pure half of a replay: each input item judged on its own (parse → route →
 * validate → judge), in input order. It runs where the input is read, in a replay worker
 * thread or inline; the second half (`replay.ts`: counting, error lines, plans, output) runs
 * in order on the main thread. Events no enabled control matched are only counted, as runs.
 * Everything here survives a structured clone (worker messages).
 */
export type Judged =
  /** `events` events in a row that no enabled control matched. */
  | { file: string; events: number }
  /** A malformed event (`event`: true) or an unreadable input or stretch of it. */
  | { file: string; position: string; error: string; event: boolean }
  | { file: string; verdict: EventVerdict; seenAt: Date };

export interface JudgeContext {
  policy: Policy;
  router: EventRouter;
  rawRouter: RawRouter;
}

export function judgeContext(policy: Policy, router: EventRouter): JudgeContext {
  return { policy, router, rawRouter: new RawRouter(router.detectors) };
}

/** Judges a batch of items; consecutive unmatched events of a file become one count. */
export function judgeItems(items: Iterable<InputItem>, ctx: JudgeContext): Judged[] {
  const out: Judged[] = [];
  let run: { file: string; events: number } | undefined;
  const count = (file: string) => {
    if (run?.file !== file) out.push((run = { file, events: 0 }));
    run.events++;
  };
  for (const item of items) {
    if ('error' in item) {
      out.push({ file: item.file, position: item.position, error: item.error, event: item.position !== 'file' });
      run = undefined;
      continue;
    }
    // validated only when a control may read it: the others are counted, not judged
    if (!ctx.rawRouter.mayRoute(item.value)) {
      count(item.file);
      continue;
    }
    let event: RampartEvent;
    let verdict: EventVerdict;
    try {
      event = parseEvent(item.value);
      verdict = judgeEvent(event, ctx.policy, ctx.router);
    } catch (error) {
      out.push({ file: item.file, position: item.position, error: messageOf(error), event: true });
      run = undefined;
      continue;
    }
    if (!verdict.matched) {
      count(item.file);
      continue;
    }
    out.push({ file: item.file, verdict, seenAt: seenAt(event) });
    run = undefined;
  }
  return out;
}

/** When an event happened, for ordering last-known-good observations (unparseable → epoch). */
function seenAt(event: RampartEvent): Date {
  const t = Date.parse(eventTimeOf(event) ?? '');
  return new Date(Number.isNaN(t) ? 0 : t);
}
