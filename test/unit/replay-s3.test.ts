import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { run } from '../../cli/main';
import { S3_READS_AT_ONCE } from '../../cli/s3-read';
import { dayPrefixes, layoutLevel, parseS3Path, parseWhen, timeRange } from '../../cli/s3-logs';
import { progressText } from '../../cli/replay-s3';
import { FakeS3 } from '../fakes/s3';
import { FakeWorld } from '../fakes/world';
import { fixture, jsonLines, runCli } from '../helpers';

/**
 * `rampart replay s3://…`: a trail's bucket behind a stateful S3 fake (ListObjectsV2 pages,
 * common prefixes, GetObject bodies in parts, failures), read by the CloudTrail key layout.
 */
const BUCKET = 'audit-logs-111122223333';
const REGION_PREFIX = 'AWSLogs/111122223333/CloudTrail/us-east-1/';

const record = (id: string, time: string) => ({
  ...fixture<{ detail: Record<string, unknown> }>('s3-DeleteBucketEncryption-constructed.json').detail,
  eventID: id,
  eventTime: time,
});
/** A log file as CloudTrail writes it (gzipped `{"Records": [...]}`), named as CloudTrail names it. */
function logFile(prefix: string, day: string, n: number): [string, Buffer] {
  const [y, m, d] = day.split('-');
  const time = `${day}T09:${String(10 + n).padStart(2, '0')}:00Z`;
  const key = `${prefix}${y}/${m}/${d}/111122223333_CloudTrail_us-east-1_${y}${m}${d}T09${10 + n}Z_${String(n).padStart(4, '0')}EXAMPLE.json.gz`;
  return [key, gzipSync(JSON.stringify({ Records: [record(`${day}-${n}-a`, time), record(`${day}-${n}-b`, time)] }))];
}

let world: FakeWorld;
let s3: FakeS3;
beforeEach(() => {
  world = new FakeWorld();
  s3 = new FakeS3(world);
});
afterEach(() => s3.mock.restore());

function trailBucket(days: string[], perDay = 2, prefix = REGION_PREFIX): string[] {
  const keys: string[] = [];
  for (const day of days)
    for (let n = 0; n < perDay; n++) {
      const [key, bytes] = logFile(prefix, day, n);
      s3.putObject(BUCKET, key, bytes);
      keys.push(key);
    }
  return keys;
}

const listedPrefixes = () =>
  s3.mock.commandCalls(ListObjectsV2Command).map((c) => `${c.args[0].input.Prefix}|${c.args[0].input.Delimiter ?? ''}`);
const eventIds = (lines: Array<Record<string, unknown>>) => lines.filter((l) => l.type === 'finding').map((l) => l.eventId);

describe('rampart replay s3://', () => {
  it('lists only the day prefixes of --since/--until, page by page, and replays their logs as the same files would be', async () => {
    const keys = trailBucket(['2024-05-12', '2024-05-13', '2024-05-14', '2024-05-15', '2024-05-16'], 3);
    world.pageSize = 2;

    const result = await runCli([
      'replay',
      '--json',
      `s3://${BUCKET}/${REGION_PREFIX}`,
      '--since',
      '2024-05-13',
      '--until',
      '2024-05-15T23:00Z',
    ]);

    expect(result.code).toBe(0);
    // and the day after --until: a file delivered after midnight holds the day's last events
    expect([...new Set(listedPrefixes())]).toEqual([
      `${REGION_PREFIX}2024/05/13/|`,
      `${REGION_PREFIX}2024/05/14/|`,
      `${REGION_PREFIX}2024/05/15/|`,
      `${REGION_PREFIX}2024/05/16/|`,
    ]);
    // three objects a day, two a page: two pages a day
    expect(listedPrefixes()).toHaveLength(8);
    const lines = jsonLines(result.stdout);
    const dir = mkdtempSync(join(tmpdir(), 'rampart-s3-'));
    const local = keys.slice(3, 12).map((key, i) => {
      const path = join(dir, `${String(i).padStart(2, '0')}.json.gz`);
      writeFileSync(path, s3.objects.get(BUCKET)!.get(key) as Buffer);
      return path;
    });
    const fromFiles = jsonLines((await runCli(['replay', '--json', ...local])).stdout);
    expect(eventIds(lines)).toEqual(eventIds(fromFiles));
    expect(eventIds(lines)).toHaveLength(18);
    // the 16th's three objects were read, their events all after --until
    expect(lines.at(-1)).toMatchObject({ type: 'summary', events: 18, files: 12, errors: 0 });
    expect(result.stderr).toContain('6 events outside --since/--until left out');
  });

  it('replays only the events between --since and --until, not every event of the days listed, and says how many it left out', async () => {
    // each object's two records happened at 09:1n of its day
    trailBucket(['2024-05-14', '2024-05-15'], 3);

    const result = await runCli([
      'replay',
      '--json',
      `s3://${BUCKET}/${REGION_PREFIX}`,
      '--since',
      '2024-05-14T09:11Z',
      '--until',
      '2024-05-15T09:10Z',
    ]);
    const lines = jsonLines(result.stdout);

    expect(result.code).toBe(0);
    expect(eventIds(lines)).toEqual([
      '2024-05-14-1-a',
      '2024-05-14-1-b',
      '2024-05-14-2-a',
      '2024-05-14-2-b',
      '2024-05-15-0-a',
      '2024-05-15-0-b',
    ]);
    expect(lines.at(-1)).toMatchObject({ type: 'summary', events: 6, files: 6, errors: 0 });
    expect(result.stderr).toContain('6 events outside --since/--until left out');
  });

  it('descends the organization trail layout (AWSLogs/<org-id>/<account>/CloudTrail/<region>/) and skips digests', async () => {
    const org = 'AWSLogs/o-a1b2c3d4e5/';
    trailBucket(['2024-05-14'], 1, `${org}111122223333/CloudTrail/us-east-1/`);
    trailBucket(['2024-05-14'], 1, `${org}444455556666/CloudTrail/eu-west-1/`);
    s3.putObject(BUCKET, `${org}111122223333/CloudTrail-Digest/us-east-1/2024/05/14/digest.json.gz`, gzipSync('{"not":"read"}'));

    const result = await runCli(['replay', '--json', `s3://${BUCKET}/${org}`, '--since', '2024-05-14', '--until', '2024-05-14']);

    expect(result.code).toBe(0);
    expect(listedPrefixes()).toEqual([
      `${org}|/`,
      `${org}111122223333/|/`,
      `${org}111122223333/CloudTrail/|/`,
      `${org}111122223333/CloudTrail/us-east-1/2024/05/14/|`,
      `${org}111122223333/CloudTrail/us-east-1/2024/05/15/|`,
      `${org}444455556666/|/`,
      `${org}444455556666/CloudTrail/|/`,
      `${org}444455556666/CloudTrail/eu-west-1/2024/05/14/|`,
      `${org}444455556666/CloudTrail/eu-west-1/2024/05/15/|`,
    ]);
    expect(jsonLines(result.stdout).at(-1)).toMatchObject({ events: 4, files: 2 });
  });

  it('says an unreadable object in an error line and goes on: nothing after it is lost', async () => {
    const keys = trailBucket(['2024-05-14'], 4);
    s3.putObject(BUCKET, keys[1]!, { error: Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }) });
    const cut = s3.objects.get(BUCKET)!.get(keys[2]!) as Buffer;
    s3.putObject(BUCKET, keys[2]!, { bytes: cut, failAfter: Math.floor(cut.length / 2) });

    const result = await runCli(['replay', '--json', `s3://${BUCKET}/${REGION_PREFIX}2024/05/14/`]);
    const lines = jsonLines(result.stdout);
    const errors = lines.filter((l) => l.type === 'error');

    expect(result.code).toBe(1);
    expect(errors).toEqual([
      { type: 'error', file: `s3://${BUCKET}/${keys[1]}`, position: 'file', message: 'cannot read: Access Denied' },
      expect.objectContaining({ type: 'error', file: `s3://${BUCKET}/${keys[2]}` }),
    ]);
    expect(eventIds(lines)).toEqual(['2024-05-14-0-a', '2024-05-14-0-b', '2024-05-14-3-a', '2024-05-14-3-b']);
    // the error lines keep their place in listing order
    expect(lines.findIndex((l) => l.type === 'error')).toBe(2);
  });

  it('reads a few objects at a time, never all at once', async () => {
    trailBucket(['2024-05-14', '2024-05-15'], 15);

    const result = await runCli(['replay', '--json', `s3://${BUCKET}/${REGION_PREFIX}`]);

    expect(jsonLines(result.stdout).at(-1)).toMatchObject({ files: 30, events: 60 });
    expect(s3.maxReadsInFlight).toBeGreaterThan(1);
    expect(s3.maxReadsInFlight).toBeLessThanOrEqual(S3_READS_AT_ONCE);
  });

  it('credentials that expire partway: one sentence naming the first object not read, not an error line per object', async () => {
    const keys = trailBucket(['2024-05-14', '2024-05-15'], 10);
    const expired = Object.assign(new Error('The provided token has expired.'), { name: 'ExpiredToken' });
    for (const key of keys.slice(5)) s3.putObject(BUCKET, key, { error: expired });

    const result = await runCli(['replay', '--json', `s3://${BUCKET}/${REGION_PREFIX}`]);
    const lines = jsonLines(result.stdout);

    expect(result.code).toBe(2);
    expect(lines.filter((l) => l.type === 'error')).toEqual([]);
    // the five objects before it were judged and printed, in order
    expect(eventIds(lines)).toEqual(keys.slice(0, 5).flatMap((_, n) => [`2024-05-14-${n}-a`, `2024-05-14-${n}-b`]));
    expect(result.stderr.match(/credentials were refused \(ExpiredToken\)/g)).toHaveLength(1);
    expect(result.stderr).toContain(`s3://${BUCKET}/${keys[5]}`);
  });

  it('credentials refused at a listing partway: what was read before is printed, and the sentence names the listing', async () => {
    const keys = trailBucket(['2024-05-14', '2024-05-15'], 3);
    const expired = Object.assign(new Error('The provided token has expired.'), { name: 'ExpiredToken' });
    s3.mock.on(ListObjectsV2Command, { Prefix: `${REGION_PREFIX}2024/05/15/` }).rejects(expired);

    const result = await runCli(['replay', '--json', `s3://${BUCKET}/${REGION_PREFIX}`, '--since', '2024-05-14', '--until', '2024-05-15']);
    const lines = jsonLines(result.stdout);

    expect(result.code).toBe(2);
    expect(eventIds(lines)).toEqual(keys.slice(0, 3).flatMap((_, n) => [`2024-05-14-${n}-a`, `2024-05-14-${n}-b`]));
    expect(result.stderr.match(/credentials were refused \(ExpiredToken\)/g)).toHaveLength(1);
    expect(result.stderr).toContain(`s3://${BUCKET}/${REGION_PREFIX}2024/05/15/`);
  });

  it('replays an event of the --until day that CloudTrail delivered after midnight', async () => {
    trailBucket(['2024-05-15'], 1);
    const late = `${REGION_PREFIX}2024/05/16/111122223333_CloudTrail_us-east-1_20240516T0005Z_0000LATEEXAMPLE.json.gz`;
    s3.putObject(
      BUCKET,
      late,
      gzipSync(JSON.stringify({ Records: [record('late', '2024-05-15T23:55:00Z'), record('next', '2024-05-16T00:01:00Z')] })),
    );

    const result = await runCli(['replay', '--json', `s3://${BUCKET}/${REGION_PREFIX}`, '--since', '2024-05-15', '--until', '2024-05-15']);

    expect(eventIds(jsonLines(result.stdout))).toEqual(['2024-05-15-0-a', '2024-05-15-0-b', 'late']);
    expect(result.stderr).toContain('1 event outside --since/--until left out');
  });

  it('without credentials: one sentence and exit 2, no stack trace', async () => {
    s3.mock
      .on(ListObjectsV2Command)
      .rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));

    const result = await runCli(['replay', `s3://${BUCKET}/${REGION_PREFIX}`]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no AWS credentials found');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('a missing bucket is an error line; an empty range a warning', async () => {
    trailBucket(['2024-05-14'], 1);

    const missing = await runCli(['replay', '--json', `s3://no-such-bucket-here/${REGION_PREFIX}`]);
    const empty = await runCli(['replay', '--json', `s3://${BUCKET}/${REGION_PREFIX}`, '--since', '2023-01-01', '--until', '2023-01-02']);

    expect(jsonLines(missing.stdout)[0]).toMatchObject({
      type: 'error',
      file: `s3://no-such-bucket-here/${REGION_PREFIX}`,
      position: 'listing',
    });
    expect(missing.code).toBe(1);
    expect(empty.code).toBe(0);
    expect(empty.stderr).toContain(`warning: s3://${BUCKET}/${REGION_PREFIX} holds no CloudTrail log files`);
  });

  it('refuses a --since it cannot read, or after --until (exit 2)', async () => {
    const bad = await runCli(['replay', `s3://${BUCKET}/${REGION_PREFIX}`, '--since', 'yesterday']);
    const reversed = await runCli(['replay', `s3://${BUCKET}/${REGION_PREFIX}`, '--since', '2024-05-15', '--until', '2024-05-14']);

    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--since: expected a date (2024-05-14)');
    expect(reversed.code).toBe(2);
    expect(reversed.stderr).toContain('is after --until');
  });

  it('draws a progress bar on a terminal, one count line otherwise; stdout carries only the lines', async () => {
    trailBucket(['2024-05-14'], 3);
    const runWith = async (tty: boolean) => {
      const stdout = new PassThrough();
      const stderr = Object.assign(new PassThrough(), tty ? { isTTY: true, columns: 80 } : {});
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      stdout.on('data', (c: Buffer) => out.push(c));
      stderr.on('data', (c: Buffer) => err.push(c));
      const code = await run(['node', 'rampart', 'replay', '--json', `s3://${BUCKET}/${REGION_PREFIX}`], {
        stdout,
        stderr,
        stdin: Readable.from([]),
      });
      return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
    };

    const piped = await runWith(false);
    const terminal = await runWith(true);

    expect(piped.stderr).not.toContain('\r');
    expect(piped.stderr).toMatch(/^s3: 3 objects read \(0\.0 MB\)$/m);
    expect(terminal.stderr).toMatch(/\rs3 \[#+\] 3\/3 objects/);
    expect(terminal.stdout).toEqual(piped.stdout);
  });
});

describe('the CloudTrail layout in S3', () => {
  it('reads s3:// paths and refuses what is not one', () => {
    expect(parseS3Path(`s3://${BUCKET}/${REGION_PREFIX}`)).toEqual({ bucket: BUCKET, prefix: REGION_PREFIX });
    expect(parseS3Path('s3://b')).toEqual(expect.stringContaining('not an S3 path'));
    expect(parseS3Path('s3://Upper_Case/x')).toEqual(expect.stringContaining('not an S3 path'));
  });

  it('knows how far down the layout a prefix reaches', () => {
    expect(layoutLevel('')).toEqual({ level: 'root' });
    expect(layoutLevel('team/AWSLogs/')).toEqual({ level: 'awslogs' });
    expect(layoutLevel('AWSLogs/o-a1b2c3d4e5/')).toEqual({ level: 'org' });
    expect(layoutLevel('AWSLogs/111122223333/')).toEqual({ level: 'account' });
    expect(layoutLevel('AWSLogs/o-a1b2c3d4e5/111122223333/CloudTrail/')).toEqual({ level: 'cloudtrail' });
    expect(layoutLevel(REGION_PREFIX)).toEqual({ level: 'region' });
    expect(layoutLevel(`${REGION_PREFIX}2024/05/`)).toEqual({ level: 'dates' });
  });

  it('gives the UTC days of a range across a month end, and reads dates, times and spans back from now', () => {
    const now = new Date('2024-06-01T12:00:00Z');

    expect(dayPrefixes(new Date('2024-05-30T23:59:00Z'), new Date('2024-06-01T00:00:00Z'))).toEqual([
      '2024/05/30/',
      '2024/05/31/',
      '2024/06/01/',
    ]);
    expect(parseWhen('2024-05-14', now)).toEqual(new Date('2024-05-14T00:00:00Z'));
    expect(parseWhen('2024-05-14T09:00+02:00', now)).toEqual(new Date('2024-05-14T07:00:00Z'));
    expect(parseWhen('36h', now)).toEqual(new Date('2024-05-31T00:00:00Z'));
    expect(timeRange({ since: '7d' }, now)).toEqual({ since: new Date('2024-05-25T12:00:00Z'), until: now });
    expect(timeRange({ since: '2024-13-01' }, now)).toEqual(expect.stringContaining('--since'));
    // a date alone as --until is the whole day; a time is that time
    expect(timeRange({ since: '2024-05-14', until: '2024-05-14' }, now)).toEqual({
      since: new Date('2024-05-14T00:00:00Z'),
      until: new Date('2024-05-14T23:59:59.999Z'),
    });
    expect(timeRange({ until: '2024-05-14T09:00Z' }, now)).toEqual({ until: new Date('2024-05-14T09:00:00Z') });
  });

  it('fits the progress line to the terminal', () => {
    const p = { listed: 120, read: 60, bytes: 3_300_000, errors: 0, outOfRange: 0, listingDone: false };

    expect(progressText(p, 79)).toBe('s3 [###############...............] 60/120+ objects, 3.1 MB');
    expect(progressText(p, 30).length).toBeLessThanOrEqual(30);
  });
});
