/**
 * Replay inputs of the issue-16 figures, generated from the fixture mix: one large CloudTrail
 * log file (single line, as CloudTrail writes it) in which 1 % of the records concern a
 * control, and a trail directory of 2,000 gzipped log files laid out as CloudTrail delivers
 * them (`AWSLogs/<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/`).
 */
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { mixRecords } from './fixtures';

const MB = 1024 * 1024;

/** The records of the mix, split into those a control reads (relevant) and the others. */
function recordKinds(): { relevant: Array<Record<string, unknown>>; other: Array<Record<string, unknown>> } {
  const relevant: Array<Record<string, unknown>> = [];
  const other: Array<Record<string, unknown>> = [];
  for (const r of mixRecords()) (/^(Get|Run)/.test(String(r.eventName)) ? other : relevant).push(r);
  return { relevant, other };
}

/** The `n`th record of a log in which one record in `1 / relevantShare` concerns a control. */
function recordText(n: number, relevantShare: number, kinds: ReturnType<typeof recordKinds>): string {
  const every = Math.round(1 / relevantShare);
  const pool = n % every === 0 ? kinds.relevant : kinds.other;
  return JSON.stringify({ ...pool[Math.floor(n / every) % pool.length], eventID: `bench-${n}` });
}

/** Writes a single-line `{"Records":[...]}` log of about `megabytes`; returns its record count. */
export async function writeCloudTrailLog(file: string, megabytes: number, relevantShare = 0.01): Promise<number> {
  const kinds = recordKinds();
  const out = createWriteStream(file);
  const write = (s: string) => new Promise<void>((resolve) => (out.write(s) ? resolve() : out.once('drain', () => resolve())));
  let bytes = 0;
  let count = 0;
  let batch = '{"Records":[';
  while (bytes < megabytes * MB) {
    const text = (count > 0 ? ',' : '') + recordText(count, relevantShare, kinds);
    bytes += text.length;
    batch += text;
    count++;
    if (batch.length > MB) {
      await write(batch);
      batch = '';
    }
  }
  await write(batch + ']}');
  await new Promise<void>((resolve) => out.end(() => resolve()));
  return count;
}

/**
 * Writes `files` gzipped log files of about `totalMegabytes` together (uncompressed) under
 * `dir`, in CloudTrail's layout; returns the record count and the uncompressed size.
 */
export function writeTrailDirectory(dir: string, files = 2000, totalMegabytes = 148): { records: number; bytes: number } {
  const kinds = recordKinds();
  const perFile = (totalMegabytes * MB) / files;
  let records = 0;
  let bytes = 0;
  for (let f = 0; f < files; f++) {
    const day = join(dir, 'AWSLogs/111122223333/CloudTrail/us-east-1/2024/05', String(1 + Math.floor(f / 100)).padStart(2, '0'));
    if (f % 100 === 0) mkdirSync(day, { recursive: true });
    const texts: string[] = [];
    let size = 0;
    while (size < perFile) {
      const text = recordText(records++, 0.01, kinds);
      texts.push(text);
      size += text.length + 1;
    }
    const log = `{"Records":[${texts.join(',')}]}`;
    bytes += log.length;
    const stamp = `20240501T${String(f % 24).padStart(2, '0')}${String(f % 60).padStart(2, '0')}Z`;
    writeFileSync(join(day, `111122223333_CloudTrail_us-east-1_${stamp}_${String(f).padStart(4, '0')}.json.gz`), gzipSync(log));
  }
  return { records, bytes };
}
