/**
 * Routing + evaluate alone (events already parsed), one core: events/s of `judgeEvent` over the
 * bench mix, and its floor, measured in the same process round by round: the same loop doing
 * only what any router must do (one lookup of the event's source and name, or Config type).
 */
import type { RampartEvent } from '../core/events';
import { loadPolicyFile } from '../controls/policy';
import { DETECTORS } from '../controls';
import { judgeEvent } from '../detectors/judge';
import { EventRouter } from '../detectors/router';
import { DEFAULT_POLICY } from '../cli/main';
import { parseEvent } from '../core/events';
import { mixEvents } from './fixtures';
import { paired, type Paired } from './paired';

export interface RoutingFigure {
  /** Seconds per event, judged and floor, and their ratio. */
  perEvent: Paired;
  verdicts: number;
}

export async function routingFigure(eventsPerRound = 200_000, rounds = 9): Promise<RoutingFigure> {
  const policy = loadPolicyFile(DEFAULT_POLICY);
  const router = new EventRouter(DETECTORS);
  const events = mixEvents().map(parseEvent);
  const keys = new Map<string, number>();
  for (const d of DETECTORS) {
    for (const t of d.triggers.cloudTrail) for (const n of t.eventNames) keys.set(`${t.eventSource}\u0000${n}`, 1);
    for (const type of d.triggers.configResourceTypes) keys.set(type, 1);
  }
  const keyOf = (e: RampartEvent) =>
    e.kind === 'cloudtrail' ? `${e.record.eventSource}\u0000${e.record.eventName}` : 'resource' in e ? e.resource.resourceType : '';
  let verdicts = 0;
  let hits = 0;
  const judged = (n: number) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) verdicts += judgeEvent(events[i % events.length]!, policy, router).judgements.length;
    return Number(process.hrtime.bigint() - start) / 1e9 / n;
  };
  const floor = (n: number) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) hits += keys.get(keyOf(events[i % events.length]!)) ?? 0;
    return Number(process.hrtime.bigint() - start) / 1e9 / n;
  };
  judged(50_000); // warm-up
  floor(50_000);
  const perEvent = await paired(
    rounds,
    () => judged(eventsPerRound),
    () => floor(eventsPerRound),
  );
  if (hits === 0) throw new Error('the floor routed nothing');
  return { perEvent, verdicts };
}

if (require.main === module) {
  void routingFigure().then((f) => console.log(JSON.stringify(f)));
}
