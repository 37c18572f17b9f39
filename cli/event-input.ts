import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { messageOf } from '../core/errors';
import { JsonRecordSplitter } from '../core/json-records';

/**
 * Reading replay input: files, directories (recursively: `.json`, `.jsonl`, `.ndjson`,
 * `.gz`), `-` for stdin. Gzip is recognised by its magic bytes, whatever the file is called.
 * Yields one item per event, as raw JSON value or as a located error; never throws for bad
 * input, so one bad file or event costs only itself.
 */
export type InputItem =
  | { file: string; position: string; value: unknown }
  | { file: string; position: string; error: string };

const EVENT_FILE = /\.(json|jsonl|ndjson)(\.gz)?$|\.gz$/i;

/** Expands directories into their event files, sorted, keeping files and `-` as given. */
export async function expandPaths(paths: readonly string[]): Promise<{ files: string[]; errors: InputItem[] }> {
  const files: string[] = [];
  const errors: InputItem[] = [];
  for (const path of paths) {
    if (path === '-') {
      files.push(path);
      continue;
    }
    try {
      const info = await stat(path);
      if (info.isDirectory()) files.push(...(await filesUnder(path)));
      else files.push(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      errors.push({ file: path, position: 'file', error: code === 'ENOENT' ? 'no such file or directory' : messageOf(error) });
    }
  }
  return { files, errors };
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  const files: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await filesUnder(path)));
    else if (entry.isFile() && EVENT_FILE.test(entry.name)) files.push(path);
  }
  return files;
}

/** Decoded text of a byte stream, gunzipped when it starts with the gzip magic bytes. */
export async function* textChunks(source: Readable): AsyncIterable<string> {
  const iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const head = await iterator.next();
  if (head.done) return;
  async function* bytes(): AsyncIterable<Buffer> {
    yield head.value;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  }
  const isGzip = head.value[0] === 0x1f && head.value[1] === 0x8b;
  const stream: AsyncIterable<Buffer> = isGzip ? Readable.from(bytes()).pipe(createGunzip()) : bytes();
  const decoder = new StringDecoder('utf8');
  for await (const chunk of stream) {
    const text = decoder.write(chunk);
    if (text) yield text;
  }
  const rest = decoder.end();
  if (rest) yield rest;
}

/**
 * The events of one input, parsed as JSON one by one. A JSON document that turns out to be a
 * CloudTrail log (`{"Records": [...]}` not written as CloudTrail writes it) or an array is
 * expanded into its events.
 */
export async function* readInput(file: string, stdin: Readable = process.stdin): AsyncIterable<InputItem> {
  const splitter = new JsonRecordSplitter();
  const source = file === '-' ? stdin : createReadStream(file, { highWaterMark: 1 << 20 });
  try {
    for await (const chunk of textChunks(source)) {
      for (const piece of splitter.push(chunk)) yield* itemsOf(file, piece);
    }
    for (const piece of splitter.end()) yield* itemsOf(file, piece);
  } catch (error) {
    yield { file, position: 'file', error: `cannot read: ${messageOf(error)}` };
  }
}

function isDigest(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'digestStartTime' in value && 'logFiles' in value;
}

function* itemsOf(file: string, piece: { position: string; text: string } | { position: string; error: string }): Iterable<InputItem> {
  if ('error' in piece) {
    yield { file, position: piece.position, error: piece.error };
    return;
  }
  let value: unknown;
  try {
    value = JSON.parse(piece.text);
  } catch (error) {
    yield { file, position: piece.position, error: `invalid JSON: ${messageOf(error)}` };
    return;
  }
  // CloudTrail delivers digest files beside the logs (CloudTrail-Digest/): no events in them
  if (isDigest(value)) return;
  const records = Array.isArray(value) ? value : (value as { Records?: unknown })?.Records;
  if (Array.isArray(records) && (Array.isArray(value) || Object.keys(value as object).length === 1)) {
    for (let i = 0; i < records.length; i++) {
      yield { file, position: `${piece.position} ${Array.isArray(value) ? '' : 'Records'}[${i}]`, value: records[i] };
    }
    return;
  }
  yield { file, position: piece.position, value };
}
