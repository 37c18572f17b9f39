import type { Actor } from './finding';
import type { Policy } from './policy';

/** The tag that dates a tag exemption, unless the policy names another (`exemptions.expiryTagKey`). */
export const DEFAULT_EXPIRY_TAG_KEY = 'rampart:exempt-until';

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * The instant an exemption ends, from its expiry tag: a date (`2027-01-31`) exempts through
 * the end of that day (UTC), a timestamp with its zone until that instant. `undefined` for
 * anything else (which then exempts nothing).
 *
 * @example expiryOf('2027-01-31')?.toISOString() // '2027-02-01T00:00:00.000Z'
 */
export function expiryOf(value: string): Date | undefined {
  const date = DATE_ONLY.exec(value);
  if (date) {
    const [y, m, d] = [Number(date[1]), Number(date[2]), Number(date[3])];
    const start = new Date(Date.UTC(y, m - 1, d));
    // 2027-02-30 is not a day: Date would roll it over to March
    if (start.getUTCFullYear() !== y || start.getUTCMonth() !== m - 1 || start.getUTCDate() !== d) return undefined;
    return new Date(start.getTime() + 86_400_000);
  }
  if (!DATE_TIME.test(value)) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : new Date(t);
}

/** Whether a resource is exempt, and why (or why its exemption tag does not exempt it). */
export type ExemptionStatus = { exempt: true; reason: string } | { exempt: false; reason?: string };

/**
 * Is a resource exempt from every control? ARN patterns (from the reviewed policy) may use `*`
 * and never expire. A tag exemption (set by whoever may tag the resource) holds while the
 * resource carries the key with that value and its expiry tag, when present, is a date not yet
 * past; with `requireExpiry` a tag exemption without a valid expiry exempts nothing. Without
 * `now` (the time is unknown) only tag exemptions without an expiry can hold.
 *
 * @example exemptionStatus('arn:aws:s3:::legacy-logs', {}, { arns: ['arn:aws:s3:::legacy-*'], tags: {} }, new Date())
 */
export function exemptionStatus(
  arn: string,
  tags: Record<string, string> | undefined,
  exemptions: Policy['exemptions'],
  now: Date | undefined,
): ExemptionStatus {
  const pattern = exemptions.arns.find((p) => (p.includes('*') ? globToRegExp(p).test(arn) : p === arn));
  if (pattern) return { exempt: true, reason: `ARN matches exemption ${pattern}` };
  if (!tags) return { exempt: false };
  const match = Object.entries(exemptions.tags).find(([key, value]) => tags[key] === value);
  if (!match) return { exempt: false };
  const tagged = `tagged ${match[0]}=${match[1]}`;
  const expiryKey = exemptions.expiryTagKey ?? DEFAULT_EXPIRY_TAG_KEY;
  const expiryValue = tags[expiryKey];
  if (expiryValue === undefined) {
    return exemptions.requireExpiry
      ? { exempt: false, reason: `${tagged} but without ${expiryKey}: the policy requires exemptions to carry an expiry date` }
      : { exempt: true, reason: tagged };
  }
  const expiry = expiryOf(expiryValue);
  if (!expiry) return { exempt: false, reason: `${tagged} but ${expiryKey}=${expiryValue} is not a date (YYYY-MM-DD)` };
  if (!now) return { exempt: false, reason: `${tagged} until ${expiryValue}, and the time of judgement is unknown` };
  if (now.getTime() >= expiry.getTime())
    return { exempt: false, reason: `${tagged} but the exemption expired (${expiryKey}=${expiryValue})` };
  return { exempt: true, reason: `${tagged} until ${expiryValue}` };
}

/**
 * Why a resource is exempt from every control, or `undefined` when it is not.
 *
 * @example exemptionOf('arn:aws:s3:::legacy-logs', {}, { arns: ['arn:aws:s3:::legacy-*'], tags: {} }, new Date())
 */
export function exemptionOf(
  arn: string,
  tags: Record<string, string> | undefined,
  exemptions: Policy['exemptions'],
  now: Date | undefined,
): string | undefined {
  const status = exemptionStatus(arn, tags, exemptions, now);
  return status.exempt ? status.reason : undefined;
}

/** What a change did to a resource's exemption. */
export const EXEMPTION_CHANGES = ['added', 'removed', 'expiry-set', 'expiry-removed'] as const;
export type ExemptionChangeKind = (typeof EXEMPTION_CHANGES)[number];

/**
 * A change of a guarded resource's exemption tags, reported as such (who exempted what): an
 * exemption is a decision to stop guarding, so it is never silent.
 */
export interface ExemptionChange {
  change: ExemptionChangeKind;
  resourceArn: string;
  /** The tag key the change concerns (the exemption tag, or the expiry tag). */
  tagKey: string;
  /** The value set (`added`, `expiry-set`). */
  tagValue?: string;
  /** The expiry the same call set (`added`), as written in the tag. */
  expiry?: string;
  /** What the exemption is after the change, as far as the call tells. */
  effect: string;
  actor?: Actor;
  eventId: string;
  eventName: string;
  eventTime?: string;
}
