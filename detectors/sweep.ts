import type { AwsClients } from '../core/aws';
import type { AnyDetector } from '../core/control';
import type { ControlId } from '../core/controls';
import { AssumeRoleError } from '../core/assume-role';
import { messageOf } from '../core/errors';
import type { ResourceRef } from '../core/finding';
import type { Policy } from '../core/policy';
import { judgeObservation, type Judgement } from './judge';
import { observeLive } from './observe';
import { extend } from '../core/extend';

/**
 * The sweep: every resource of every enabled control, listed, read and judged on the same path
 * as an event (`judgeObservation`). It is what makes the guard complete: CloudTrail delivery is
 * best effort, events over 256 KB never arrive, and a new guard starts with drift it never saw.
 * Resources are pulled from the listing as workers free up, so memory stays flat whatever the
 * account's size; a resource that cannot be read is reported and skipped.
 */
export type SweepItem =
  | { kind: 'judged'; judgement: Judgement; state?: unknown }
  | { kind: 'error'; control: ControlId; resourceArn: string; message: string }
  /**
   * The listing itself failed: the control's remaining resources were not swept. `unreachable`
   * when the account could not be entered at all (its role could not be assumed).
   */
  | { kind: 'list-error'; control: ControlId; message: string; unreachable?: true };

export interface SweepOptions {
  /** Names the sweep in findings (`eventId`). */
  sweepId: string;
  /** Only these controls (default: every control the policy enables). */
  controls?: readonly ControlId[];
  /** Resources read at once. Default 32. */
  concurrency?: number;
  /** Per control: resume after this resource ARN (listing order is stable). */
  startAfter?: Partial<Record<ControlId, string>>;
  /** Stop pulling new resources once this returns true (a Lambda running out of time). */
  shouldStop?: () => boolean;
  /** The account swept: listings do not say it, fixes need it (`ExpectedBucketOwner`, key ARNs). */
  account?: string;
  /** Told of each resource as it is taken from the listing (where a stopped sweep resumes). */
  onListed?: (control: ControlId, resourceArn: string) => void;
  /** The registered detectors (controls/index.ts `DETECTORS`). */
  detectors: readonly AnyDetector[];
  /** The time exemptions are judged at (their expiry dates). Default: the wall clock. */
  clock?: () => Date;
}

async function judgeOne(
  detector: AnyDetector,
  ref: ResourceRef,
  policy: Policy,
  clients: AwsClients,
  sweepId: string,
  now: Date,
): Promise<SweepItem> {
  const control = detector.id as ControlId;
  try {
    const observation = await observeLive(detector, ref, policy, clients);
    const judgement = judgeObservation(
      detector,
      ref,
      observation,
      policy,
      { eventId: sweepId, eventName: 'Sweep', eventSource: 'rampart.sweep' },
      now,
    );
    return { kind: 'judged', judgement, ...(observation.status === 'known' ? { state: observation.state } : {}) };
  } catch (error) {
    return { kind: 'error', control, resourceArn: ref.arn, message: messageOf(error) };
  }
}

/** The account's role could not be assumed (core/assume-role.ts), as the SDK passes it on from the credentials. */
function isUnreachable(error: unknown): boolean {
  return error instanceof AssumeRoleError || (error as { name?: unknown } | undefined)?.name === 'AssumeRoleError';
}

/** The resources to sweep, control by control, skipping up to `startAfter`. */
async function* resourcesToSweep(
  detectors: readonly AnyDetector[],
  clients: AwsClients,
  options: SweepOptions,
): AsyncIterable<{ detector: AnyDetector; ref: ResourceRef } | { detector: AnyDetector; listError: string; unreachable: boolean }> {
  for (const detector of detectors) {
    const after = options.startAfter?.[detector.id as ControlId];
    let skipping = after !== undefined;
    try {
      for await (const ref of detector.list(clients)) {
        if (skipping) {
          if (ref.arn === after) skipping = false;
          continue;
        }
        yield { detector, ref };
      }
    } catch (error) {
      yield { detector, listError: messageOf(error), unreachable: isUnreachable(error) };
    }
  }
}

/**
 * Sweeps and yields each verdict as it comes (completion order).
 *
 * @example for await (const item of sweep(policy, clients, { sweepId: 'sweep-2024-06-03T16:00Z' })) ...
 */
export async function* sweep(policy: Policy, clients: AwsClients, options: SweepOptions): AsyncIterable<SweepItem> {
  const detectors = options.detectors.filter(
    (d) => policy.controls[d.id as ControlId] !== undefined && (!options.controls || options.controls.includes(d.id as ControlId)),
  );
  const limit = Math.max(1, options.concurrency ?? 32);
  const source = resourcesToSweep(detectors, clients, options)[Symbol.asyncIterator]();
  const inFlight = new Map<number, Promise<{ id: number; item: SweepItem }>>();
  let next = 0;
  let exhausted = false;
  const pull = async (): Promise<void> => {
    while (!exhausted && inFlight.size < limit && !options.shouldStop?.()) {
      const step = await source.next();
      if (step.done) {
        exhausted = true;
        return;
      }
      const id = next++;
      const value = step.value;
      if ('ref' in value) options.onListed?.(value.detector.id as ControlId, value.ref.arn);
      const work: Promise<SweepItem> =
        'listError' in value
          ? Promise.resolve({
              kind: 'list-error',
              control: value.detector.id as ControlId,
              message: value.listError,
              ...(value.unreachable ? { unreachable: true as const } : {}),
            })
          : judgeOne(
              value.detector,
              options.account && !value.ref.account ? extend(value.ref, { account: options.account }) : value.ref,
              policy,
              clients,
              options.sweepId,
              (options.clock ?? (() => new Date()))(),
            );
      inFlight.set(
        id,
        work.then((item) => ({ id, item })),
      );
    }
  };
  await pull();
  while (inFlight.size > 0) {
    const { id, item } = await Promise.race(inFlight.values());
    inFlight.delete(id);
    yield item;
    await pull();
  }
}
