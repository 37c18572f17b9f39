import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Event as LookupEvent, LookupEventsResponse, Resource } from '@aws-sdk/client-cloudtrail';
import { fixture, jsonLines, runCli } from '../helpers';

/**
 * The layouts `rampart replay` reads, decided per document: each test names one way events
 * used to be lost without an error line. Every good event here yields one finding whose
 * eventId says which event it was, so the tests see exactly which events were replayed.
 */
const event = (id: string) => {
  const e = fixture<{ detail: Record<string, unknown> }>('s3-DeleteBucketEncryption-constructed.json');
  e.detail.eventID = id;
  return e;
};
const record = (id: string) => event(id).detail;
const line = (value: unknown) => JSON.stringify(value);
const pretty = (value: unknown) => JSON.stringify(value, null, 2);

async function replay(args: string[], stdin?: string | Buffer) {
  const result = await runCli(['replay', '--json', ...args], stdin);
  const lines = jsonLines(result.stdout);
  return {
    code: result.code,
    stderr: result.stderr,
    ids: lines.filter((l) => l.type === 'finding').map((l) => l.eventId),
    errors: lines.filter((l) => l.type === 'error'),
    summary: lines.at(-1) as { type: string; events: number; errors: number; findings: number },
  };
}

describe('rampart replay decides the layout per document', () => {
  it('keeps every line of NDJSON whose first line is an array', async () => {
    const text = [line([record('a1'), record('a2')]), line(event('b')), line(event('c'))].join('\n') + '\n';

    const r = await replay(['-'], text);

    expect(r.ids).toEqual(['a1', 'a2', 'b', 'c']);
    expect(r.summary).toMatchObject({ events: 4, errors: 0 });
  });

  it('keeps every line of NDJSON whose first line is a one-line CloudTrail log', async () => {
    const text = [line({ Records: [record('a1'), record('a2')] }), line(event('b')), line({ Records: [record('c1')] })].join('\n');

    const r = await replay(['-'], text);

    expect(r.ids).toEqual(['a1', 'a2', 'b', 'c1']);
  });

  it.each([
    ['back to back', ''],
    ['one per line', '\n'],
  ])('keeps the records of every concatenated CloudTrail log file (%s)', async (_, separator) => {
    const text = [
      line({ Records: [record('a1'), record('a2')] }),
      line({ Records: [record('b1')] }),
      pretty({ Records: [record('c1'), record('c2')] }),
    ].join(separator);

    const r = await replay(['-'], text);

    expect(r.ids).toEqual(['a1', 'a2', 'b1', 'c1', 'c2']);
    expect(r.summary).toMatchObject({ events: 5, errors: 0 });
  });

  it('keeps the first event after a UTF-8 byte order mark', async () => {
    const r = await replay(
      ['-'],
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${line(event('a'))}\n${line(event('b'))}\n`)]),
    );

    expect(r.ids).toEqual(['a', 'b']);
    expect(r.summary).toMatchObject({ events: 2, errors: 0 });
  });

  it('reports a scalar between pretty-printed documents and keeps the documents after it', async () => {
    const text = [pretty(event('a')), '42', pretty(event('b')), pretty(event('c'))].join('\n');

    const r = await replay(['-'], text);

    expect(r.ids).toEqual(['a', 'b', 'c']);
    expect(r.errors).toEqual([
      {
        type: 'error',
        file: '-',
        position: `line ${pretty(event('a')).split('\n').length + 1}`,
        message: 'expected an event object, found "42"',
      },
    ]);
    expect(r.summary).toMatchObject({ events: 4, errors: 1 });
  });

  it.each([
    ['in a string', '{"version": "0", "detail-type": "AWS API Ca'],
    ['between fields', '{"version": "0", "detail": {"eventID": "x",'],
  ])('loses only a truncated first line (cut %s) and replays the rest of the file', async (_, cut) => {
    const text = [cut, line(event('b')), line(event('c'))].join('\n');

    const r = await replay(['-'], text);

    expect(r.ids).toEqual(['b', 'c']);
    expect(r.errors).toEqual([expect.objectContaining({ position: 'line 1', message: expect.stringMatching(/cut short/) })]);
    expect(r.summary).toMatchObject({ events: 3, errors: 1 });
  });

  it('replays the decoded prefix of a truncated .gz and reports the truncation as one error', async () => {
    const records = Array.from({ length: 300 }, (_, i) => record(`r${i}`));
    const gz = gzipSync(JSON.stringify({ Records: records }));
    const dir = mkdtempSync(join(tmpdir(), 'rampart-cut-'));
    const file = join(dir, 'log.json.gz');
    writeFileSync(file, gz.subarray(0, Math.floor(gz.length / 2)));

    const r = await replay([file]);

    expect(r.ids.length).toBeGreaterThan(0);
    expect(r.ids).toEqual(records.slice(0, r.ids.length).map((x) => x.eventID));
    expect(r.errors).toEqual([
      { type: 'error', file, position: `Records[${r.ids.length}]`, message: expect.stringMatching(/gzip.*cut short|cut short.*gzip/) },
    ]);
    expect(r.summary).toMatchObject({ events: r.ids.length + 1, errors: 1 });
  });

  it('caps the error lines of a file and counts the rest in one line', async () => {
    const text = [...Array.from({ length: 1000 }, (_, i) => `not json ${i}`), line(event('good'))].join('\n');

    const r = await replay(['-'], text);

    expect(r.ids).toEqual(['good']);
    expect(r.errors).toHaveLength(21);
    expect(r.errors.slice(0, 20).map((e) => e.position)).toEqual(Array.from({ length: 20 }, (_, i) => `line ${i + 1}`));
    expect(r.errors[20]).toEqual({
      type: 'error',
      file: '-',
      position: 'file',
      message: '980 more errors in this file not shown',
      omitted: 980,
    });
    expect(r.summary).toMatchObject({ events: 1001, errors: 1000 });
  });

  it('reads the output of aws cloudtrail lookup-events: each CloudTrailEvent as a record', async () => {
    const r = await replay([join(__dirname, '../fixtures/cloudtrail-LookupEvents.cli-output-constructed.json')]);

    expect(r.ids).toEqual(['91ee2813-98d2-5fbb-9a16-906ae9998edf', 'fc17c36b-ab45-53e7-ab04-96294862285a']);
    expect(r.summary).toMatchObject({ events: 2, errors: 0, findings: 2 });
  });

  it('builds the lookup-events fixture of LookupEvents response members only (SDK types)', () => {
    const RESPONSE = ['Events', 'NextToken'] as const satisfies ReadonlyArray<keyof LookupEventsResponse>;
    const EVENT = [
      'EventId',
      'EventName',
      'ReadOnly',
      'AccessKeyId',
      'EventTime',
      'EventSource',
      'Username',
      'Resources',
      'CloudTrailEvent',
    ] as const satisfies ReadonlyArray<keyof LookupEvent>;
    const RESOURCE = ['ResourceType', 'ResourceName'] as const satisfies ReadonlyArray<keyof Resource>;
    const output = fixture<{ Events: Array<Record<string, unknown> & { Resources?: Array<Record<string, unknown>> }> }>(
      'cloudtrail-LookupEvents.cli-output-constructed.json',
    );

    expect(RESPONSE).toEqual(expect.arrayContaining(Object.keys(output)));
    for (const e of output.Events) {
      expect(EVENT).toEqual(expect.arrayContaining(Object.keys(e)));
      expect(typeof e.CloudTrailEvent).toBe('string');
      for (const r of e.Resources ?? []) expect(RESOURCE).toEqual(expect.arrayContaining(Object.keys(r)));
    }
  });

  it('reports a lookup event whose CloudTrailEvent is not JSON, with its position', async () => {
    const text = line({
      Events: [
        { EventId: 'x', EventName: 'DeleteBucketEncryption', CloudTrailEvent: '{"eventVersion":' },
        { EventId: 'y', CloudTrailEvent: line(record('y')) },
      ],
    });

    const r = await replay(['-'], text);

    expect(r.ids).toEqual(['y']);
    expect(r.errors).toEqual([
      expect.objectContaining({ position: 'Events[0]', message: expect.stringMatching(/^CloudTrailEvent is not valid JSON/) }),
    ]);
  });

  it('skips node_modules and .git under a directory, and says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rampart-checkout-'));
    mkdirSync(join(dir, 'node_modules/pkg'), { recursive: true });
    mkdirSync(join(dir, '.git'));
    mkdirSync(join(dir, 'incident'));
    writeFileSync(join(dir, 'node_modules/pkg/package.json'), line(event('dependency')));
    writeFileSync(join(dir, '.git/config.json'), line(event('git')));
    writeFileSync(join(dir, 'incident/events.ndjson'), line(event('mine')));

    const r = await replay([dir]);

    expect(r.ids).toEqual(['mine']);
    expect(r.summary).toMatchObject({ events: 1, errors: 0 });
    expect(r.stderr).toContain(`skipped ${join(dir, '.git')}`);
    expect(r.stderr).toContain(`skipped ${join(dir, 'node_modules')}`);
  });

  // linear time and flat memory are `npm run bench -- replay`'s (10 MB against 100 MB under a heap
  // cap): a test asserts what comes out, never how long it took
  it('replays 30 MB of documents without a newline, gzipped (16 KB chunks): every event, none lost', async () => {
    const one = line(event('same'));
    const count = Math.ceil((30 * 1024 * 1024) / one.length);
    const file = join(mkdtempSync(join(tmpdir(), 'rampart-long-')), 'one-line.json.gz');
    writeFileSync(file, gzipSync(one.repeat(count)));

    const r = await replay([file]);

    expect(r.summary).toMatchObject({ events: count, errors: 0, files: 1 });
  }, 120_000);
});
