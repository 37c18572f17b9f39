import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JsonRecordSplitter, type JsonPiece } from '../../core/json-records';
import { FIXTURES } from '../helpers';

/** Splits `text` fed in chunks of `size` bytes. */
function split(text: string | Buffer, size: number): JsonPiece[] {
  const bytes = Buffer.from(text);
  const splitter = new JsonRecordSplitter();
  const pieces: JsonPiece[] = [];
  for (let i = 0; i < bytes.length; i += size) pieces.push(...splitter.push(bytes.subarray(i, i + size)));
  pieces.push(...splitter.end());
  return pieces;
}

const summary = (pieces: JsonPiece[]) =>
  pieces.map((p) => ('error' in p ? `${p.position} ERROR` : `${p.position} ${JSON.stringify(JSON.parse(p.text))}`));
const CHUNK_SIZES = [1, 2, 3, 7, 64, 1 << 20];

describe('JsonRecordSplitter', () => {
  const log = readFileSync(join(FIXTURES, 'cloudtrail-LogFile.mixed-constructed.json'), 'utf8');
  const expectedRecords = (JSON.parse(log) as { Records: unknown[] }).Records.map((r, i) => `Records[${i}] ${JSON.stringify(r)}`);

  it.each(CHUNK_SIZES)('splits a pretty-printed CloudTrail log into its records, in chunks of %i', (size) => {
    expect(summary(split(log, size))).toEqual(expectedRecords);
  });

  it.each(CHUNK_SIZES)('splits a minified CloudTrail log (as CloudTrail writes it), in chunks of %i', (size) => {
    expect(summary(split(JSON.stringify(JSON.parse(log)), size))).toEqual(expectedRecords);
  });

  it.each(CHUNK_SIZES)('keeps escaped quotes and backslashes inside strings, in chunks of %i', (size) => {
    const records = [{ a: 'say "hi" \\', b: '}]{[' }, { c: '\\\\"', d: '\\' }, { e: 'x' }];

    expect(summary(split(JSON.stringify({ Records: records }), size))).toEqual(records.map((r, i) => `Records[${i}] ${JSON.stringify(r)}`));
  });

  describe('a log as CloudTrail writes it: each record parsed at once, not scanned byte by byte', () => {
    // the splitter fed whole (one chunk) finds the records' boundaries; fed a byte at a time it
    // never sees one in a chunk and scans every byte: both must hand over the same pieces
    const both = (text: string) => {
      const bytes = Buffer.from(text);
      const whole = new JsonRecordSplitter();
      const pieces = [...whole.push(bytes), ...whole.end()];
      return { pieces, readWhole: whole.elementsReadWhole, scanned: split(text, 1) };
    };
    const record = (n: number, extra: Record<string, unknown> = {}) => ({ eventVersion: '1.09', eventID: `e${n}`, ...extra });
    // what a reader gets of each piece: its value, or ERROR where the splitter or JSON.parse refuses it
    const values = (pieces: JsonPiece[]) =>
      pieces.map((p) => {
        if ('error' in p) return `${p.position} ERROR`;
        try {
          return `${p.position} ${JSON.stringify(JSON.parse(p.text))}`;
        } catch {
          return `${p.position} ERROR`;
        }
      });

    it('reads each record whole, with the values the scanner would parse', () => {
      const text = JSON.stringify({ Records: [record(0), record(1, { note: '},{"eventVersion"' }), record(2)] });

      const { pieces, readWhole, scanned } = both(text);

      expect(readWhole).toBe(2);
      expect(summary(pieces)).toEqual(summary(scanned));
      expect(summary(pieces)).toEqual([0, 1, 2].map((n, i) => `Records[${i}] ${JSON.stringify(JSON.parse(text).Records[n])}`));
      for (const p of pieces) if ('text' in p && 'value' in p) expect(p.value).toEqual(JSON.parse(p.text));
    });

    it('scans a record whose nested array holds the boundary bytes, and every record after it', () => {
      const nested = record(1, { resources: [{ a: 1 }, { eventVersion: 'inner' }] });
      const text = JSON.stringify({ Records: [record(0), nested, record(2), record(3)] });

      const { pieces, readWhole, scanned } = both(text);

      expect(readWhole).toBe(1);
      expect(summary(pieces)).toEqual(summary(scanned));
      expect(summary(pieces)).toHaveLength(4);
    });

    it('tries the bytes up to a boundary once: one-record logs on one line before a log of many cost one miss, not one each', () => {
      const single = JSON.stringify({ Records: [record(0)] });
      const text = Array.from({ length: 200 }, () => single).join('') + JSON.stringify({ Records: [record(1), record(2)] });

      const whole = new JsonRecordSplitter();
      const pieces = [...whole.push(Buffer.from(text)), ...whole.end()];

      expect(values(pieces)).toEqual(values(split(text, 1)));
      expect(pieces).toHaveLength(202);
      expect(whole.wholeReadMisses).toBe(1);
    });

    it('reports a malformed record at its position and keeps the ones after it', () => {
      const text = `{"Records":[${JSON.stringify(record(0))},{"eventVersion":"1.09","eventID":},${JSON.stringify(record(2))}]}`;

      const { pieces, scanned } = both(text);

      expect(values(pieces)).toEqual(values(scanned));
      expect(values(pieces)).toEqual([
        `Records[0] ${JSON.stringify(record(0))}`,
        'Records[1] ERROR',
        `Records[2] ${JSON.stringify(record(2))}`,
      ]);
    });
  });

  it('splits NDJSON by line and reports a bad line without losing the next', () => {
    const text = '{"a":1}\n{"b":\n\n{"c":3}\n';

    const pieces = split(text, 5);

    expect(pieces.map((p) => p.position)).toEqual(['line 1', 'line 2', 'line 4']);
    expect(() => JSON.parse((pieces[1] as { text: string }).text)).toThrow();
    expect(JSON.parse((pieces[2] as { text: string }).text)).toEqual({ c: 3 });
  });

  it('splits pretty-printed documents that follow one another', () => {
    const doc = readFileSync(join(FIXTURES, 's3-DeleteBucketEncryption-constructed.json'), 'utf8');

    expect(split(doc + '\n' + doc, 13).map((p) => p.position)).toEqual(['document 1', 'document 2']);
  });

  it('splits an array of events and reports the elements that are not objects', () => {
    const pieces = split('[{"a":1}, 42, "x,y", {"b":2}]', 4);

    expect(pieces.map((p) => `${p.position} ${'error' in p ? 'error' : 'ok'}`)).toEqual(['[0] ok', '[1] error', '[2] error', '[3] ok']);
  });

  it('says where a cut-short log ends', () => {
    const pieces = split('{"Records":[{"a":1},{"b":', 3);

    expect(pieces).toEqual([
      { position: 'Records[0]', text: '{"a":1}' },
      { position: 'Records[1]', error: 'unexpected end of input: the JSON is cut short' },
    ]);
  });

  it('reports a stray closing bracket between documents and keeps the next document', () => {
    const pieces = split('{\n  "a": 1\n}\n}\n{"b":2}', 2);

    expect(pieces).toEqual([
      { position: 'document 1', text: '{\n  "a": 1\n}' },
      { position: 'line 4', error: 'unexpected "}" between documents' },
      { position: 'line 5', text: '{"b":2}' },
    ]);
  });

  // every layout, one after the other, decided per document: the same pieces whatever the chunks
  const MIXED = Buffer.concat([
    Buffer.from([0xef, 0xbb, 0xbf]),
    Buffer.from(
      [
        '{"Records":[{"a":1},{"b":"x\\"}"}]}{"Records":[{"c":3}]}',
        '{"d":4}',
        '[{"e":5}, 42, {"f":6}]',
        '{\n  "g": 7\n}',
        'oops',
        '{"h": "cut',
        '{"Events":[{"EventId":"1","CloudTrailEvent":"{}"}],"NextToken":"t"}',
        '{"i": {"j":',
        '{"NextToken":"t","Events":[{"k":1}]}',
        '{"Records":[{"l":1},{"m":',
        '{"n":1}',
      ].join('\n'),
    ),
  ]);

  it.each(CHUNK_SIZES)('decides the layout of each document on its own, in chunks of %i', (size) => {
    expect(split(MIXED, size)).toEqual([
      { position: 'Records[0]', text: '{"a":1}' },
      { position: 'Records[1]', text: '{"b":"x\\"}"}' },
      { position: 'document 2 Records[0]', text: '{"c":3}' },
      { position: 'line 2', text: '{"d":4}' },
      { position: 'line 3 [0]', text: '{"e":5}' },
      { position: 'line 3 [1]', error: 'expected an event object, found "42"' },
      { position: 'line 3 [2]', text: '{"f":6}' },
      { position: 'document 5', text: '{\n  "g": 7\n}' },
      { position: 'line 7', error: 'invalid JSON: unexpected text "oops"' },
      { position: 'line 8', error: 'cut short: line 8 ends inside a JSON value' },
      { position: 'line 9 Events[0]', text: '{"EventId":"1","CloudTrailEvent":"{}"}' },
      { position: 'line 10', error: 'cut short: line 10 ends inside a JSON value' },
      // NextToken first: not streamed, read whole (the reader expands it)
      { position: 'line 11', text: '{"NextToken":"t","Events":[{"k":1}]}' },
      { position: 'line 12 Records[0]', text: '{"l":1}' },
      { position: 'line 12 Records[1]', error: 'cut short: line 12 ends inside a JSON value' },
      { position: 'line 13', text: '{"n":1}' },
    ]);
  });

  it('says why the input stopped when it could not be read to its end, even between documents', () => {
    const splitter = new JsonRecordSplitter();

    expect(splitter.push(Buffer.from('{"a":1}\n'))).toEqual([{ position: 'line 1', text: '{"a":1}' }]);
    expect(splitter.end('the gzip data ends early')).toEqual([{ position: 'line 2', error: 'cut short: the gzip data ends early' }]);
  });

  it('keeps a long string whole across many chunks', () => {
    const long = 'x'.repeat(100_000);
    const text = `{"Records":[{"a":"${long}"}]}{"Records":[{"b":1}]}`;

    expect(split(text, 4096).map((p) => p.position)).toEqual(['Records[0]', 'document 2 Records[0]']);
    expect(split(text, 4096)[0]).toEqual({ position: 'Records[0]', text: `{"a":"${long}"}` });
  });

  it('yields nothing for empty input', () => {
    expect(split('  \n', 1)).toEqual([]);
  });
});
