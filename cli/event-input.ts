import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { messageOf } from '../core/errors';
import { JsonRecordSplitter, type JsonPiece } from '../core/json-records';

/**
 * Reading replay input: files, directories (recursively: `.json`, `.jsonl`, `.ndjson`,
 * `.gz`), `-` for stdin. Gzip is recognised by its magic bytes, whatever the file is called.
 * Yields one item per event, as raw JSON value or as a located error; never throws for bad
 * input, so one bad file or event costs only itself.
 */
export type InputItem = { file: string; position: string; value: unknown } | { file: string; position: string; error: string };

const EVENT_FILE = /\.(json|jsonl|ndjson)(\.gz)?$|\.gz$/i;

// a project checkout holds JSON that is not events: dependencies and git internals
const SKIPPED_DIRS: ReadonlySet<string> = new Set(['node_modules', '.git']);

export interface ExpandedPaths {
  files: string[];
  errors: InputItem[];
  /** Directories not searched (node_modules, .git), to be said on stderr. */
  skipped: string[];
}

/**
 * Expands directories into their event files, sorted, keeping files and `-` as given. Under a
 * directory, `node_modules` and `.git` are skipped (a path given by name is always read).
 */
export async function expandPaths(paths: readonly string[]): Promise<ExpandedPaths> {
  const found: ExpandedPaths = { files: [], errors: [], skipped: [] };
  for (const path of paths) {
    if (path === '-') {
      found.files.push(path);
      continue;
    }
    try {
      const info = await stat(path);
      if (info.isDirectory()) await filesUnder(path, found);
      else found.files.push(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      found.errors.push({ file: path, position: 'file', error: code === 'ENOENT' ? 'no such file or directory' : messageOf(error) });
    }
  }
  return found;
}

async function filesUnder(dir: string, found: ExpandedPaths): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && SKIPPED_DIRS.has(entry.name)) found.skipped.push(path);
    else if (entry.isDirectory()) await filesUnder(path, found);
    else if (entry.isFile() && EVENT_FILE.test(entry.name)) found.files.push(path);
  }
}

/** The input could not be read to its end; what came before it was read and stands. */
class InputCutShort extends Error {}

/** The bytes of a stream, gunzipped when it starts with the gzip magic bytes (several members too). */
export async function* byteChunks(source: Readable): AsyncIterable<Buffer> {
  const iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const head = await iterator.next();
  if (head.done) return;
  async function* bytes(): AsyncIterable<Buffer> {
    yield head.value;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  }
  const isGzip = head.value[0] === 0x1f && head.value[1] === 0x8b;
  if (!isGzip) return yield* bytes();
  const gunzip = Readable.from(bytes()).pipe(createGunzip());
  try {
    yield* gunzip;
  } catch (error) {
    // what was decoded before the cut has been yielded: say the rest is missing
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (code === 'Z_BUF_ERROR') throw new InputCutShort('the gzip data ends early (unexpected end of file)');
    if (code.startsWith('Z_')) throw new InputCutShort(`the gzip data is corrupt (${messageOf(error)})`);
    throw error;
  }
}

/**
 * The events of one input, parsed as JSON one by one. A JSON document that turns out to be a
 * CloudTrail log (`{"Records": [...]}` not written as CloudTrail writes it), `lookup-events`
 * output or an array is expanded into its events; a lookup event's `CloudTrailEvent` string is
 * parsed into the record it holds.
 */
export async function* readInput(file: string, stdin: Readable = process.stdin): AsyncIterable<InputItem> {
  const splitter = new JsonRecordSplitter();
  const source = file === '-' ? stdin : createReadStream(file, { highWaterMark: 1 << 20 });
  let reason: string | undefined;
  try {
    for await (const chunk of byteChunks(source)) {
      for (const piece of splitter.push(chunk)) yield* itemsOf(file, piece);
    }
  } catch (error) {
    if (!(error instanceof InputCutShort) && splitter.isEmpty()) {
      yield { file, position: 'file', error: `cannot read: ${messageOf(error)}` };
      return;
    }
    reason = error instanceof InputCutShort ? error.message : `the input cannot be read further (${messageOf(error)})`;
  }
  for (const piece of splitter.end(reason)) yield* itemsOf(file, piece);
}

function isDigest(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'digestStartTime' in value && 'logFiles' in value;
}

/** The events a parsed document holds, when it is a container of them (log file, lookup output, array). */
function eventsIn(value: unknown): { label: string; events: unknown[] } | undefined {
  if (Array.isArray(value)) return { label: '', events: value };
  if (typeof value !== 'object' || value === null) return undefined;
  const keys = Object.keys(value);
  const { Records, Events } = value as { Records?: unknown; Events?: unknown };
  if (Array.isArray(Records) && keys.length === 1) return { label: 'Records', events: Records };
  if (Array.isArray(Events) && keys.every((k) => k === 'Events' || k === 'NextToken')) return { label: 'Events', events: Events };
  return undefined;
}

function* itemsOf(file: string, piece: JsonPiece): Iterable<InputItem> {
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
  const container = eventsIn(value);
  if (!container) {
    yield lookedUp(file, piece.position, value);
    return;
  }
  for (let i = 0; i < container.events.length; i++) yield lookedUp(file, `${piece.position} ${container.label}[${i}]`, container.events[i]);
}

/** A `lookup-events` event carries its CloudTrail record as a JSON string; anything else is as read. */
function lookedUp(file: string, position: string, value: unknown): InputItem {
  const text = typeof value === 'object' && value !== null ? (value as { CloudTrailEvent?: unknown }).CloudTrailEvent : undefined;
  if (typeof text !== 'string') return { file, position, value };
  try {
    return { file, position, value: JSON.parse(text) };
  } catch (error) {
    return { file, position, error: `CloudTrailEvent is not valid JSON: ${messageOf(error)}` };
  }
}
