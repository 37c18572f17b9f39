/**
 * Where a trail's logs live in S3, pure: an `s3://` path, the CloudTrail key layout
 * (`[prefix/]AWSLogs/[<org-id>/]<account>/CloudTrail/<region>/YYYY/MM/DD/<file>.json.gz`,
 * CloudTrail User Guide, "Finding your CloudTrail log files"), the day prefixes a time range
 * covers, and `--since`/`--until`. The listing and reading are cli/s3-read.ts.
 */

export interface S3Location {
  bucket: string;
  /** The key prefix as given (no leading slash). */
  prefix: string;
}

export const isS3Path = (path: string): boolean => /^s3:\/\//i.test(path);

/** `s3://bucket/prefix` → its parts; a string saying what is wrong otherwise. */
export function parseS3Path(path: string): S3Location | string {
  const match = /^s3:\/\/([^/]+)(?:\/(.*))?$/i.exec(path);
  // bucket names: 3-63 lower-case letters, digits, dots and hyphens (S3 User Guide, bucket naming rules)
  if (!match || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(match[1]!))
    return `not an S3 path: ${path} (expected s3://<bucket>/AWSLogs/<account>/CloudTrail/<region>/)`;
  return { bucket: match[1]!, prefix: (match[2] ?? '').replace(/^\/+/, '') };
}

export const s3Url = (bucket: string, key: string): string => `s3://${bucket}/${key}`;

const ACCOUNT = /^\d{12}$/;
const ORG = /^o-[a-z0-9]{10,32}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

/**
 * How far down the layout a prefix (ending in `/`) reaches: what its next segment is. `root`:
 * no `AWSLogs/` yet (a bucket or the trail's own key prefix).
 */
export type LayoutLevel =
  | { level: 'root' }
  | { level: 'awslogs' }
  | { level: 'org' }
  | { level: 'account' }
  | { level: 'cloudtrail' }
  | { level: 'region' }
  | { level: 'dates' };

export function layoutLevel(prefix: string): LayoutLevel {
  const segments = prefix.split('/').filter(Boolean);
  const at = segments.lastIndexOf('AWSLogs');
  if (at < 0) return { level: 'root' };
  const rest = segments.slice(at + 1);
  if (rest.length === 0) return { level: 'awslogs' };
  const afterOrg = ORG.test(rest[0]!) ? rest.slice(1) : rest;
  if (afterOrg.length === 0) return { level: 'org' };
  if (afterOrg.length === 1) return { level: 'account' };
  if (afterOrg.length === 2) return { level: 'cloudtrail' };
  if (afterOrg.length === 3) return { level: 'region' };
  return { level: 'dates' };
}

/** The sub-prefixes (`Delimiter: '/'` common prefixes) worth descending into at a level: the layout's, not digests or Insights. */
export function followsLayout(level: LayoutLevel['level'], child: string): boolean {
  const name = child.split('/').filter(Boolean).pop() ?? '';
  switch (level) {
    case 'root':
      return name === 'AWSLogs';
    case 'awslogs':
      return ACCOUNT.test(name) || ORG.test(name);
    case 'org':
      return ACCOUNT.test(name);
    case 'account':
      return name === 'CloudTrail';
    case 'cloudtrail':
      return REGION.test(name);
    default:
      return false;
  }
}

/** The UTC days from `since` to `until`, both included, as the date part of a key (`YYYY/MM/DD/`). */
export function dayPrefixes(since: Date, until: Date): string[] {
  const days: string[] = [];
  const day = new Date(Date.UTC(since.getUTCFullYear(), since.getUTCMonth(), since.getUTCDate()));
  for (; day.getTime() <= until.getTime(); day.setUTCDate(day.getUTCDate() + 1))
    days.push(`${day.toISOString().slice(0, 10).replace(/-/g, '/')}/`);
  return days;
}

/** The day a key's path names (`…/CloudTrail/<region>/YYYY/MM/DD/…`), as `YYYY/MM/DD/`; `undefined` outside the layout. */
export function dayOfKey(key: string): string | undefined {
  const match = /\/CloudTrail\/[a-z0-9-]+\/(\d{4})\/(\d{2})\/(\d{2})\//.exec(`/${key}`);
  return match ? `${match[1]}/${match[2]}/${match[3]}/` : undefined;
}

/**
 * The last day whose logs can hold events up to `until`: the day after it. A log file's path
 * and name are its delivery time, and it holds records written at any point before then
 * (CloudTrail User Guide, "CloudTrail log file examples"): events of 23:55 sit in a file of the
 * next day. Its other events are left out by their `eventTime` (`recordInRange`).
 */
export function lastLogDay(until: Date): Date {
  return new Date(until.getTime() + 86_400_000);
}

/** Whether a key's day is in the range (a key outside the layout is kept: it was asked for by its prefix). */
export function keyInRange(key: string, range: TimeRange): boolean {
  const day = dayOfKey(key);
  if (!day || (!range.since && !range.until)) return true;
  const first = range.since ? dayPrefixes(range.since, range.since)[0]! : '';
  const last = range.until ? dayPrefixes(lastLogDay(range.until), lastLogDay(range.until))[0]! : '\uffff';
  return day >= first && day <= last;
}

export interface TimeRange {
  since?: Date;
  until?: Date;
}

/**
 * Whether a log record happened in the range: its `eventTime` (every CloudTrail record has one,
 * CloudTrail record contents). The day prefixes only narrow the listing to whole UTC days; a
 * record without a readable time is kept (it is judged, and reported if malformed).
 */
export function recordInRange(record: unknown, range: TimeRange): boolean {
  if (!range.since && !range.until) return true;
  const time = Date.parse(String((record as { eventTime?: unknown } | null)?.eventTime ?? ''));
  if (Number.isNaN(time)) return true;
  return (!range.since || time >= range.since.getTime()) && (!range.until || time <= range.until.getTime());
}

/** A date alone (`2024-05-14`): its midnight as `--since`, the whole day as `--until`. */
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * `--since`/`--until`: an ISO 8601 date or date-time (`2024-05-14`, `2024-05-14T09:00Z`), or
 * a time back from now (`36h`, `7d`). A string saying what is wrong otherwise.
 */
export function parseWhen(text: string, now: Date): Date | string {
  const relative = /^(\d+)([hd])$/.exec(text.trim());
  if (relative) return new Date(now.getTime() - Number(relative[1]) * (relative[2] === 'h' ? 3_600_000 : 86_400_000));
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text.trim())) {
    const iso = DATE_ONLY.test(text.trim()) ? `${text.trim()}T00:00:00Z` : text.trim();
    const time = Date.parse(/Z|[+-]\d{2}:?\d{2}$/.test(iso) ? iso : `${iso}Z`);
    if (!Number.isNaN(time)) return new Date(time);
  }
  return `expected a date (2024-05-14), a date and time (2024-05-14T09:00Z) or a time back from now (36h, 7d), not ${JSON.stringify(text)}`;
}

/**
 * The range of `--since`/`--until` (until defaults to now when since is given); a string saying
 * what is wrong. A date alone as `--until` is that whole day (`--until 2024-05-14`: through
 * 23:59:59.999Z), as a date alone as `--since` starts at its midnight.
 */
export function timeRange(options: { since?: string; until?: string }, now: Date): TimeRange | string {
  const since = options.since === undefined ? undefined : parseWhen(options.since, now);
  const parsedUntil = options.until === undefined ? undefined : parseWhen(options.until, now);
  const until =
    parsedUntil instanceof Date && DATE_ONLY.test(options.until!.trim()) ? new Date(parsedUntil.getTime() + 86_400_000 - 1) : parsedUntil;
  if (typeof since === 'string') return `--since: ${since}`;
  if (typeof until === 'string') return `--until: ${until}`;
  if (since && until && since.getTime() > until.getTime())
    return `--since (${since.toISOString()}) is after --until (${until.toISOString()})`;
  return { ...(since ? { since, until: until ?? now } : {}), ...(until ? { until } : {}) };
}
