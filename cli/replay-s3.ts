import { resolveRegion } from './aws-access';
import { write, type CliIo } from './io';
import type { JudgeContext, Judged } from './replay-judge';
import type { S3Progress } from './s3-read';
import type { TimeRange } from './s3-logs';

/**
 * The `s3://` inputs of a replay: the S3 client (loaded only when a path is in S3), and the
 * progress on stderr: a bar redrawn in place when stderr is a terminal, one count line when it
 * is not (a log file or CI keeps a single line, never carriage returns).
 */
export interface S3InputOptions {
  region?: string;
  endpoint?: string;
}

const megabytes = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;

/** The progress line; `width` columns at most (the bar shrinks first). */
export function progressText(p: S3Progress, width: number): string {
  const total = p.listingDone ? String(p.listed) : `${p.listed}+`;
  const tail = ` ${p.read}/${total} objects, ${megabytes(p.bytes)}${p.errors > 0 ? `, unreadable listings: ${p.errors}` : ''}`;
  const room = Math.max(0, Math.min(30, width - tail.length - 8));
  if (room < 5) return `s3:${tail}`.slice(0, width);
  const done = p.listed === 0 ? 0 : Math.round((room * p.read) / p.listed);
  return `s3 [${'#'.repeat(done)}${'.'.repeat(room - done)}]${tail}`;
}

export function s3Progress(
  io: CliIo,
  now: () => number = Date.now,
): { progress(p: S3Progress): void; empty(path: string): void; done(): void } {
  const stderr = io.stderr as { isTTY?: boolean; columns?: number };
  const tty = Boolean(stderr.isTTY);
  let last = 0;
  let latest: S3Progress | undefined;
  let drawn = false;
  return {
    progress(p) {
      latest = { ...p };
      if (!tty) return;
      const t = now();
      if (t - last < 100 && !(p.listingDone && p.read === p.listed)) return;
      last = t;
      drawn = true;
      io.stderr.write(`\r${progressText(p, (stderr.columns ?? 80) - 1)}\u001b[K`);
    },
    empty(path) {
      if (drawn) io.stderr.write('\r\u001b[K');
      write(io.stderr, `warning: ${path} holds no CloudTrail log files (in the --since/--until range, when given)`);
    },
    done() {
      if (!latest) return;
      if (tty) io.stderr.write('\n');
      else
        write(
          io.stderr,
          `s3: ${latest.read} objects read (${megabytes(latest.bytes)})${latest.errors > 0 ? `; unreadable listings: ${latest.errors}` : ''}`,
        );
      if (latest.outOfRange > 0)
        write(io.stderr, `s3: ${latest.outOfRange} event${latest.outOfRange === 1 ? '' : 's'} outside --since/--until left out`);
    },
  };
}

/** The judged items of the `s3://` paths, in order; the progress said on stderr. */
export async function* judgedS3Paths(
  paths: readonly string[],
  ctx: JudgeContext,
  range: TimeRange,
  options: S3InputOptions,
  io: CliIo,
): AsyncIterable<Judged[]> {
  const [{ S3Client }, { judgedS3 }] = await Promise.all([import('@aws-sdk/client-s3'), import('./s3-read')]);
  // a bucket in another region answers with a redirect the client follows (the region is only where to start)
  const region = (await resolveRegion(options.region)) ?? 'us-east-1';
  const s3 = new S3Client({
    region,
    followRegionRedirects: true,
    ...(options.endpoint ? { endpoint: options.endpoint, forcePathStyle: true } : {}),
  });
  const bar = s3Progress(io);
  try {
    yield* judgedS3(paths, ctx, s3, range, bar);
  } finally {
    bar.done();
    s3.destroy();
  }
}
