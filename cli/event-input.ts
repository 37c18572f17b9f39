import { createReadStream, readFileSync, statSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, pipeline } from 'node:stream';
import { createGunzip, gunzipSync } from 'node:zlib';
import { messageOf } from '../core/errors';
import { JsonRecordSplitter, type JsonPiece } from '../core/json-records';

/**
 * Reading replay input: files, directories (recursively: `.json`, `.jsonl`, `.ndjson`,
 * `.gz`), `-` for stdin. Gzip is recognised by its magic bytes, whatever the file is called.
 * Yields one item per event, as raw JSON value or as a located error; never throws for bad
 * input, so one bad file or event costs only itself.
 */
export type InputItem = { file: string; position: string; value: unknown } | { file: string; position: string; error: string };

export const EVENT_FILE = /\.(json|jsonl|ndjson)(\.gz)?$|\.gz$/i;

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
  // pipeline, not pipe: a source that fails (a network body cut off) fails the gunzip too, which would otherwise wait forever
  const gunzip = createGunzip();
  pipeline(Readable.from(bytes()), gunzip, () => undefined);
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
 * Files up to this size are read whole and gunzipped in one call, up to {@link WHOLE_GUNZIPPED_MAX}
 * decompressed: a trail's thousands of small log files then cost no stream set-up each. Larger
 * ones are streamed (memory bounded by the largest event).
 */
export const WHOLE_READ_MAX = 4 * 1024 * 1024;
export const WHOLE_GUNZIPPED_MAX = 16 * 1024 * 1024;
/** A file read whole up to this size (decompressed) is first tried as one `JSON.parse` (`wholeDocumentItems`). */
const WHOLE_PARSE_MAX = 4 * 1024 * 1024;
/** The decompressed bytes are split in slices this size: one batch of items is alive at a time. */
const SLICE = 1 << 20;

/**
 * Reads a file whole when it is small enough (see {@link WHOLE_READ_MAX}); `undefined`: stream
 * it (too large, not a regular file, unreadable: the stream says why). Synchronous on purpose:
 * a small file is read in tens of microseconds, while each of the four thread-pool round trips
 * of an asynchronous read waits for a thread, milliseconds on a busy machine.
 */
export function readWhole(file: string): Buffer | undefined {
  if (file === '-') return undefined;
  try {
    const info = statSync(file);
    return info.isFile() && info.size <= WHOLE_READ_MAX ? readFileSync(file) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The events of one input, parsed as JSON one by one, in batches (one per chunk read). A JSON
 * document that turns out to be a CloudTrail log (`{"Records": [...]}` not written as
 * CloudTrail writes it), `lookup-events` output or an array is expanded into its events; a
 * lookup event's `CloudTrailEvent` string is parsed into the record it holds. `whole`: the
 * file's bytes, read by {@link readWhole}.
 */
export async function* readInput(file: string, stdin: Readable = process.stdin, whole?: Buffer): AsyncIterable<InputItem[]> {
  const bytes = whole && decompressed(whole);
  const parsed = bytes && bytes.length <= WHOLE_PARSE_MAX ? wholeDocumentItems(file, bytes) : undefined;
  if (parsed) {
    yield parsed;
    return;
  }
  if (bytes) {
    const splitter = new JsonRecordSplitter();
    for (let at = 0; at < bytes.length; at += SLICE) yield itemsOfPieces(file, splitter.push(bytes.subarray(at, at + SLICE)));
    yield itemsOfPieces(file, splitter.end());
    return;
  }
  yield* readStream(file, file === '-' ? stdin : createReadStream(file, { highWaterMark: 1 << 20 }));
}

/**
 * The events of a stream (a file, stdin, an S3 object's body), gunzipped when it is gzip,
 * split and parsed as it arrives: memory is bounded by the largest event. A stream cut short
 * keeps what came before and says the rest is missing.
 */
export async function* readStream(file: string, source: Readable): AsyncIterable<InputItem[]> {
  const splitter = new JsonRecordSplitter();
  let reason: string | undefined;
  try {
    for await (const chunk of byteChunks(source)) yield itemsOfPieces(file, splitter.push(chunk));
  } catch (error) {
    if (!(error instanceof InputCutShort) && splitter.isEmpty()) {
      yield [{ file, position: 'file', error: `cannot read: ${messageOf(error)}` }];
      return;
    }
    reason = error instanceof InputCutShort ? error.message : `the input cannot be read further (${messageOf(error)})`;
  }
  yield itemsOfPieces(file, splitter.end(reason));
}

/** The bytes of a file read whole, gunzipped; `undefined` for a cut or corrupt gzip (streamed: it replays what decodes) or one too large. */
function decompressed(bytes: Buffer): Buffer | undefined {
  if (!(bytes[0] === 0x1f && bytes[1] === 0x8b)) return bytes;
  // gzip's trailer holds the (last member's) decompressed size: a large one is streamed without a wasted try
  if (bytes.length >= 18 && bytes.readUInt32LE(bytes.length - 4) > WHOLE_GUNZIPPED_MAX) return undefined;
  try {
    return gunzipSync(bytes, { maxOutputLength: WHOLE_GUNZIPPED_MAX });
  } catch {
    return undefined;
  }
}

function itemsOfPieces(file: string, pieces: JsonPiece[]): InputItem[] {
  const items: InputItem[] = [];
  for (const piece of pieces) pushItemsOf(items, file, piece);
  return items;
}

function isDigest(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'digestStartTime' in value && 'logFiles' in value;
}

/** The events a parsed document holds, when it is a container of them (log file, lookup output, array). */
function eventsIn(value: unknown): { label: string; events: unknown[] } | undefined {
  if (Array.isArray(value)) return { label: '', events: value };
  if (typeof value !== 'object' || value === null) return undefined;
  const { Records, Events } = value as { Records?: unknown; Events?: unknown };
  // an event (most values here) has neither: its keys are not listed (a trail's every record would pay for the array)
  if (!Array.isArray(Records) && !Array.isArray(Events)) return undefined;
  const keys = Object.keys(value);
  if (Array.isArray(Records) && keys.length === 1) return { label: 'Records', events: Records };
  if (Array.isArray(Events) && keys.every((k) => k === 'Events' || k === 'NextToken')) return { label: 'Events', events: Events };
  return undefined;
}

function pushItemsOf(items: InputItem[], file: string, piece: JsonPiece): void {
  if ('error' in piece) {
    items.push({ file, position: piece.position, error: piece.error });
    return;
  }
  let value: unknown;
  try {
    // a record of a CloudTrail log comes parsed already (core/json-records.ts `readWhole`)
    value = 'value' in piece ? piece.value : JSON.parse(piece.text);
  } catch (error) {
    items.push({ file, position: piece.position, error: `invalid JSON: ${messageOf(error)}` });
    return;
  }
  pushItemsOfValue(items, file, piece.position, value);
}

/**
 * Adds the items of a parsed value at `position` to `items`: none for a digest, a container's
 * events, else the value. Pushed, not yielded: it runs once per event of a trail.
 */
function pushItemsOfValue(items: InputItem[], file: string, position: string, value: unknown): void {
  // CloudTrail delivers digest files beside the logs (CloudTrail-Digest/): no events in them
  if (isDigest(value)) return;
  const container = eventsIn(value);
  if (!container) {
    items.push(lookedUp(file, position, value));
    return;
  }
  for (let i = 0; i < container.events.length; i++) items.push(lookedUp(file, `${position} ${container.label}[${i}]`, container.events[i]));
}

const isEventObject = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The items of a file that is one container document of event objects, parsed at once as the
 * splitter would hand them over (same values, positions `Records[i]`, `Events[i]`, `[i]`), at
 * the cost of one `JSON.parse`: a CloudTrail log file as CloudTrail writes it. `undefined` for
 * anything else (NDJSON, several documents, malformed JSON, scalars among the events), which
 * the splitter reads with its positions and errors.
 */
function wholeDocumentItems(file: string, bytes: Buffer): InputItem[] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  let label: string;
  let events: unknown;
  if (Array.isArray(value)) [label, events] = ['', value];
  else if (!isEventObject(value)) return undefined;
  else {
    const keys = Object.keys(value as object).join(',');
    if (keys === 'Records') [label, events] = ['Records', (value as { Records: unknown }).Records];
    else if (keys === 'Events' || keys === 'Events,NextToken') [label, events] = ['Events', (value as { Events: unknown }).Events];
    else return undefined;
  }
  if (!Array.isArray(events) || !events.every(isEventObject)) return undefined;
  const items: InputItem[] = [];
  for (let i = 0; i < events.length; i++) pushItemsOfValue(items, file, `${label}[${i}]`, events[i]);
  return items;
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
