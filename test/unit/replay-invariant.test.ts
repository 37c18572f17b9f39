import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, gunzipSync, gzipSync } from 'node:zlib';
import { fixture, jsonLines, runCli } from '../helpers';

/**
 * The replay invariant, on random mixes of every layout `rampart replay` reads, gzipped or
 * not, with bad records among the good: per file, the records replayed (summary `events`
 * minus `errors`) are exactly the good ones, in order (each good record yields one finding
 * carrying its own eventID), and every bad one is an error line with file, position, message.
 */

/** mulberry32: a small seeded generator, so a failing mix can be rebuilt from its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Piece {
  text: string;
  good: string[];
  bad: number;
  /** Ends with a line that a following line must not continue (a junk or cut-short line). */
  isLine?: boolean;
}

class Mix {
  private n = 0;
  readonly next: () => number;
  constructor(seed: number) {
    this.next = random(seed);
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  id(): string {
    return `good-${this.n++}`;
  }
}

const BASE = fixture<{ detail: Record<string, unknown> }>('s3-DeleteBucketEncryption-constructed.json');
const goodEvent = (id: string) => ({ ...BASE, detail: { ...BASE.detail, eventID: id } });
const goodRecord = (id: string) => ({ ...BASE.detail, eventID: id });
/** Bad records as they turn up: broken JSON, a value that is no event, an event of the wrong shape. */
const BAD_ELEMENTS = [
  '{"eventName": nope}',
  '42',
  'null',
  '"a string"',
  'true',
  '{"detail-type": "AWS API Call via CloudTrail", "source": "aws.s3"}',
  '{"eventName": "X"}',
];
const BAD_LINES = [
  '{"eventName": nope}',
  '42',
  'null',
  'not json at all',
  'true',
  '{"detail-type": "AWS API Call via CloudTrail", "source": "aws.s3"}',
];

function elements(mix: Mix, make: (id: string) => unknown, pretty: boolean): { texts: string[]; good: string[]; bad: number } {
  const texts: string[] = [];
  const good: string[] = [];
  let bad = 0;
  for (let i = mix.int(1, 5); i > 0; i--) {
    if (mix.next() < 0.25) {
      texts.push(mix.pick(BAD_ELEMENTS));
      bad++;
    } else {
      const id = mix.id();
      good.push(id);
      texts.push(JSON.stringify(make(id), null, pretty ? 2 : undefined));
    }
  }
  return { texts, good, bad };
}

const LAYOUTS: Record<string, (mix: Mix) => Piece> = {
  ndjsonEvent: (mix) => {
    const id = mix.id();
    return { text: JSON.stringify(mix.next() < 0.5 ? goodEvent(id) : goodRecord(id)), good: [id], bad: 0 };
  },
  badLine: (mix) => ({ text: mix.pick(BAD_LINES), good: [], bad: 1, isLine: true }),
  cutLine: (mix) => {
    const whole = JSON.stringify(goodEvent('cut'));
    return { text: whole.slice(0, mix.int(1, whole.length - 2)), good: [], bad: 1, isLine: true };
  },
  prettyEvent: (mix) => {
    const id = mix.id();
    return { text: JSON.stringify(goodEvent(id), null, 2), good: [id], bad: 0 };
  },
  cloudTrailLog: (mix) => {
    const pretty = mix.next() < 0.4;
    const e = elements(mix, goodRecord, pretty);
    return {
      text: pretty ? `{\n  "Records": [\n${e.texts.join(',\n')}\n  ]\n}` : `{"Records":[${e.texts.join(',')}]}`,
      good: e.good,
      bad: e.bad,
    };
  },
  array: (mix) => {
    const pretty = mix.next() < 0.4;
    const e = elements(mix, mix.next() < 0.5 ? goodEvent : goodRecord, pretty);
    return { text: pretty ? `[\n${e.texts.join(',\n')}\n]` : `[${e.texts.join(',')}]`, good: e.good, bad: e.bad };
  },
  lookupEvents: (mix) => {
    const good: string[] = [];
    let bad = 0;
    const events = Array.from({ length: mix.int(1, 4) }, () => {
      const broken = mix.next() < 0.25;
      const id = broken ? 'broken' : mix.id();
      if (broken) bad++;
      else good.push(id);
      const record = JSON.stringify(goodRecord(id));
      return {
        EventId: id,
        EventName: 'DeleteBucketEncryption',
        ReadOnly: 'false',
        EventSource: 's3.amazonaws.com',
        CloudTrailEvent: broken ? record.slice(0, 30) : record,
      };
    });
    const body = { Events: events, ...(mix.next() < 0.5 ? { NextToken: 'eyJ0b2tlbiI6IDF9' } : {}) };
    return { text: JSON.stringify(body, null, mix.next() < 0.5 ? 4 : undefined), good, bad };
  },
};

/** A random file: pieces joined by line breaks, or back to back where JSON allows it. */
function file(mix: Mix): Piece {
  const names = Object.keys(LAYOUTS);
  let text = mix.next() < 0.2 ? '\uFEFF' : '';
  const good: string[] = [];
  let bad = 0;
  let previous: Piece | undefined;
  for (let i = mix.int(1, 8); i > 0; i--) {
    const piece = LAYOUTS[mix.pick(names)]!(mix);
    if (previous) text += previous.isLine || piece.isLine ? '\n' : mix.pick(['\n', '', '\n\n', ' ']);
    text += piece.text;
    good.push(...piece.good);
    bad += piece.bad;
    previous = piece;
  }
  return { text: text + (mix.next() < 0.7 ? '\n' : ''), good, bad };
}

async function replayed(path: string) {
  const lines = jsonLines((await runCli(['replay', '--json', path])).stdout);
  const summary = lines.at(-1) as { type: string; events: number; errors: number };
  return {
    lines,
    summary,
    ids: lines.filter((l) => l.type === 'finding').map((l) => l.eventId),
    errors: lines.filter((l) => l.type === 'error'),
  };
}

function expectErrorLines(errors: Array<Record<string, unknown>>, path: string, bad: number): void {
  const shown = errors.filter((e) => e.omitted === undefined);
  const omitted = errors.reduce((sum, e) => sum + ((e.omitted as number | undefined) ?? 0), 0);
  expect(shown.length + omitted).toBe(bad);
  for (const e of errors) {
    expect(e).toEqual({
      type: 'error',
      file: path,
      position: expect.stringMatching(/\S/),
      message: expect.stringMatching(/\S/),
      ...(e.omitted === undefined ? {} : { omitted: e.omitted }),
    });
  }
}

describe('replay invariant over random mixes of layouts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-mix-'));

  it.each(Array.from({ length: 60 }, (_, seed) => seed))(
    'seed %i: every good record replayed, every bad one an error line',
    async (seed) => {
      const mix = new Mix(seed);
      const f = file(mix);
      const gzipped = mix.next() < 0.4;
      const path = join(dir, `mix-${seed}.${gzipped ? 'json.gz' : 'ndjson'}`);
      writeFileSync(path, gzipped ? gzipSync(f.text) : f.text);

      const r = await replayed(path);

      expect(r.ids).toEqual(f.good);
      expect(r.summary.events - r.summary.errors).toBe(f.good.length);
      expect(r.summary.errors).toBe(f.bad);
      expectErrorLines(r.errors, path, f.bad);
    },
  );

  it.each(Array.from({ length: 20 }, (_, seed) => 1000 + seed))(
    'seed %i, gzip cut short inside the last log: the decoded prefix replayed, one error more',
    async (seed) => {
      const mix = new Mix(seed);
      const f = file(mix);
      const records = Array.from({ length: 40 }, () => goodRecord(mix.id()));
      const texts = records.map((r) => JSON.stringify(r));
      const head = `${f.text}\n{"Records":[`;
      const text = `${head}${texts.join(',')}]}`;
      // where each record of the last log ends in the uncompressed text
      const ends = texts.map((_, i) => Buffer.byteLength(head) + Buffer.byteLength(texts.slice(0, i + 1).join(',')));
      const gz = gzipSync(text);
      const cut = cutInside(gz, ends[2]!, ends.at(-2)!);
      const path = join(dir, `cut-${seed}.json.gz`);
      writeFileSync(path, gz.subarray(0, cut.bytes));

      const r = await replayed(path);

      const kept = records.filter((_, i) => ends[i]! <= cut.decoded).map((x) => x.eventID);
      expect(r.ids).toEqual([...f.good, ...kept]);
      expect(r.summary.events - r.summary.errors).toBe(f.good.length + kept.length);
      expect(r.summary.errors).toBe(f.bad + 1);
      expectErrorLines(r.errors, path, f.bad + 1);
      // the truncation is the last error of the file, shown unless past the cap
      const last = r.errors.at(-1)!;
      expect(last.omitted ?? last.message).toEqual(last.omitted ?? expect.stringMatching(/^cut short: the gzip data ends early/));
    },
  );
});

/** A length to cut the gzip data at so that what it decodes to ends between `from` and `to`. */
function cutInside(gz: Buffer, from: number, to: number): { bytes: number; decoded: number } {
  let low = 20;
  let high = gz.length - 1;
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    const decoded = gunzipSync(gz.subarray(0, mid), { finishFlush: constants.Z_SYNC_FLUSH }).length;
    if (decoded < from) low = mid + 1;
    else if (decoded > to) high = mid - 1;
    else return { bytes: mid, decoded };
  }
  return { bytes: low, decoded: gunzipSync(gz.subarray(0, low), { finishFlush: constants.Z_SYNC_FLUSH }).length };
}
