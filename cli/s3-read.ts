import type { S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { messageOf } from '../core/errors';
import { AwsAccessError, accessProblem } from './aws-access';
import { EVENT_FILE, readStream } from './event-input';
import { judgeItems, type JudgeContext, type Judged } from './replay-judge';
import {
  dayPrefixes,
  followsLayout,
  keyInRange,
  lastLogDay,
  layoutLevel,
  parseS3Path,
  recordInRange,
  s3Url,
  type TimeRange,
} from './s3-logs';

/**
 * Replay from where a trail's logs live: the objects under an `s3://` path, listed by the
 * CloudTrail layout (only the day prefixes of `--since`/`--until`, ListObjectsV2 pages), each
 * streamed through the same gunzip → split → parse path as a file and judged, a few at once,
 * handed on in listing order. A listing or an object that cannot be read is an error line and
 * the replay goes on; no credentials at all stops it (one sentence, exit 2, as every command).
 */

/** Objects read at once: enough to hide S3's latency, few enough that memory holds a few judged files. */
export const S3_READS_AT_ONCE = 8;

type Listed = { key: string; size: number } | { error: string; prefix: string };

export interface S3Progress {
  listed: number;
  read: number;
  bytes: number;
  errors: number;
  /** Records of the objects read that happened outside `--since`/`--until` (left out, not judged). */
  outOfRange: number;
  /** The listing is over: `listed` is the total. */
  listingDone: boolean;
}

// ListObjectsV2 returns keys in UTF-8 binary order, which is the order of the layout's dates
async function* pages(
  s3: S3Client,
  bucket: string,
  prefix: string,
  delimiter?: string,
): AsyncIterable<{ keys: Array<{ key: string; size: number }>; prefixes: string[] }> {
  const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
  let token: string | undefined;
  do {
    const out = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        ContinuationToken: token,
        ...(delimiter ? { Delimiter: delimiter } : {}),
      }),
    );
    yield {
      keys: (out.Contents ?? []).flatMap((o) => (o.Key ? [{ key: o.Key, size: o.Size ?? 0 }] : [])),
      prefixes: (out.CommonPrefixes ?? []).flatMap((p) => (p.Prefix ? [p.Prefix] : [])),
    };
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
}

/** AWS refused the credentials at a listing: the prefix, so the run can say where it stopped. */
class ListingRefused extends AwsAccessError {
  constructor(
    message: string,
    readonly listing: string,
  ) {
    super(message);
  }
}

/** A failed list call: an error line, or the end of the run when AWS cannot be reached at all. */
function listingFailed(bucket: string, prefix: string, error: unknown): Listed {
  const problem = accessProblem(error);
  if (problem) throw new ListingRefused(problem, s3Url(bucket, prefix));
  return { prefix: s3Url(bucket, prefix), error: `cannot list: ${messageOf(error)}` };
}

async function* keysUnder(s3: S3Client, bucket: string, prefix: string, keep: (key: string) => boolean): AsyncIterable<Listed> {
  try {
    for await (const page of pages(s3, bucket, prefix)) for (const o of page.keys) if (EVENT_FILE.test(o.key) && keep(o.key)) yield o;
  } catch (error) {
    yield listingFailed(bucket, prefix, error);
  }
}

/** The log objects under a prefix, descending the layout to each region, then by day when a range is given. */
export async function* listLogObjects(s3: S3Client, bucket: string, prefix: string, range: TimeRange): AsyncIterable<Listed> {
  // one object named by its key
  if (prefix !== '' && !prefix.endsWith('/') && EVENT_FILE.test(prefix)) {
    yield { key: prefix, size: 0 };
    return;
  }
  const at = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  const { level } = layoutLevel(at);
  if (level === 'region' && range.since) {
    for (const day of dayPrefixes(range.since, lastLogDay(range.until ?? new Date())))
      yield* keysUnder(s3, bucket, `${at}${day}`, () => true);
    return;
  }
  if (level === 'region' || level === 'dates') {
    yield* keysUnder(s3, bucket, at, (key) => keyInRange(key, range));
    return;
  }
  const children: string[] = [];
  try {
    for await (const page of pages(s3, bucket, at, '/')) children.push(...page.prefixes.filter((c) => followsLayout(level, c)));
  } catch (error) {
    yield listingFailed(bucket, at, error);
    return;
  }
  for (const child of children) yield* listLogObjects(s3, bucket, child, range);
}

/**
 * What reading one object gave: its judged parts, or that AWS refused the credentials
 * themselves (expired partway through a long replay): every object after would fail alike.
 * Given back, never thrown: the reads in flight behind it must not reject unawaited.
 */
type ObjectRead = { parts: Judged[][]; outOfRange: number } | { refused: string; url: string };

/** The items of one object, streamed; an object that cannot be fetched is one error line. */
async function judgedObject(s3: S3Client, bucket: string, key: string, ctx: JudgeContext, range: TimeRange): Promise<ObjectRead> {
  const url = s3Url(bucket, key);
  const out: Judged[][] = [];
  let outOfRange = 0;
  try {
    const { GetObjectCommand } = await import('@aws-sdk/client-s3');
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!object.Body)
      return { parts: [judgeItems([{ file: url, position: 'file', error: 'cannot read: the object has no body' }], ctx)], outOfRange };
    // on Node.js the SDK's body is a Readable (IncomingMessage)
    for await (const items of readStream(url, object.Body as Readable)) {
      const kept = items.filter((item) => 'error' in item || recordInRange(item.value, range));
      outOfRange += items.length - kept.length;
      out.push(judgeItems(kept, ctx));
    }
  } catch (error) {
    const refused = accessProblem(error);
    if (refused) return { refused, url };
    out.push(judgeItems([{ file: url, position: 'file', error: `cannot read: ${messageOf(error)}` }], ctx));
  }
  // an object read whose events all fell outside the range still counts as a file of the replay
  if (outOfRange > 0 && out.every((part) => part.length === 0)) out.push([{ file: url, events: 0 }]);
  return { parts: out, outOfRange };
}

/**
 * The judged items of every log object under the `s3://` paths, in listing order, with at most
 * `readsAtOnce` objects fetched at a time. `progress` is told as listing and reading go.
 */
export async function* judgedS3(
  paths: readonly string[],
  ctx: JudgeContext,
  s3: S3Client,
  range: TimeRange,
  tell: { progress(p: S3Progress): void; empty(path: string): void },
  readsAtOnce = S3_READS_AT_ONCE,
): AsyncIterable<Judged[]> {
  const state: S3Progress = { listed: 0, read: 0, bytes: 0, errors: 0, outOfRange: 0, listingDone: false };
  const inFlight: Array<{ read: Promise<ObjectRead>; object: boolean }> = [];
  const failed = (file: string, position: string, error: string) => {
    state.errors++;
    inFlight.push({ read: Promise.resolve({ parts: [judgeItems([{ file, position, error }], ctx)], outOfRange: 0 }), object: false });
  };
  const settle = async function* () {
    const next = inFlight.shift()!;
    const read = await next.read;
    // the run stops at the first object in listing order that AWS refused to give: all before it
    // is out, and the sentence names where a rerun with fresh credentials starts again
    if ('refused' in read)
      throw new AwsAccessError(
        `${read.refused} (${read.url} and the objects after it were not read: ${state.read} of ${state.listed} listed so far)`,
      );
    if (next.object) state.read++;
    state.outOfRange += read.outOfRange;
    tell.progress(state);
    for (const part of read.parts) yield part;
  };
  for (const path of paths) {
    const location = parseS3Path(path);
    if (typeof location === 'string') {
      failed(path, 'file', location);
      continue;
    }
    let found = 0;
    const errorsBefore = state.errors;
    try {
      for await (const entry of listLogObjects(s3, location.bucket, location.prefix, range)) {
        if ('error' in entry) failed(entry.prefix, 'listing', entry.error);
        else {
          found++;
          state.listed++;
          state.bytes += entry.size;
          inFlight.push({ read: judgedObject(s3, location.bucket, entry.key, ctx, range), object: true });
        }
        tell.progress(state);
        while (inFlight.length >= readsAtOnce) yield* settle();
      }
    } catch (error) {
      if (!(error instanceof ListingRefused)) throw error;
      // AWS refused a listing partway: the objects listed before it are still handed on (a
      // refused one among them stops the run first), then the sentence says where it stopped
      while (inFlight.length > 0) yield* settle();
      throw new AwsAccessError(`${error.message} (${error.listing} could not be listed: ${state.read} objects replayed before it)`);
    }
    // said on stderr: a path that holds nothing is most likely a typo (or a range without logs)
    if (found === 0 && state.errors === errorsBefore) tell.empty(path);
  }
  state.listingDone = true;
  while (inFlight.length > 0) yield* settle();
  tell.progress(state);
}
