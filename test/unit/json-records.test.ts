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

const summary = (pieces: JsonPiece[]) => pieces.map((p) => ('error' in p ? `${p.position} ERROR` : `${p.position} ${JSON.stringify(JSON.parse(p.text))}`));
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

  it('yields nothing for empty input', () => {
    expect(split('  \n', 1)).toEqual([]);
  });
});
