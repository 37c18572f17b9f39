/**
 * Splits a byte stream of JSON into the events it holds, holding no more than one event in
 * memory: a 100 MB CloudTrail log replays in flat memory and linear time. Each event is handed
 * over as text, to be `JSON.parse`d on its own, so a malformed event is reported at its
 * position and the ones after it still come through (a streaming parser of the whole document
 * would stop at the first bad byte). A record of a log as CloudTrail writes it comes parsed
 * already: found by where the next one begins (`NEXT_RECORD`), it is not scanned byte by byte.
 *
 * The layout is decided per top-level document, not per stream, so any mix of these, one after
 * the other, with or without newlines between them (`zcat *.json.gz`, NDJSON, pasted output):
 * - `{"Records": [...]}`: a CloudTrail log file; positions `Records[i]`;
 * - `{"Events": [...], "NextToken": ...}`: `aws cloudtrail lookup-events` output; `Events[i]`;
 * - `[...]`: an array of events; positions `[i]`;
 * - any other object: one event, on one line (`line n`) or pretty-printed (`document n`).
 * An array or wrapper after the first document is prefixed with where it starts
 * (`line 3 Records[0]`, `document 2 [1]`). A UTF-8 byte order mark between documents is
 * skipped. Anything else between documents (a scalar, a stray bracket) is one error up to the
 * end of its line or the next `{`/`[`, never more.
 *
 * Recovery from a cut-short value (a truncated NDJSON line): a raw line break inside a string
 * is never JSON, and a line that starts at column 0 with anything but whitespace, `"`, `}`,
 * `]`, `,` or `:` is not the continuation of an indented pretty-printed value. Either ends the
 * unfinished document there as one error, and scanning resumes on the next line. (Hand-written
 * JSON that puts a nested value at column 0 is the one layout this misreads.)
 */
import { WRAPPER_KEYS, documentPosition, elementPosition, type Container, type Doc } from './json-documents';

/** `value`: the text already parsed (an element of a CloudTrail log read whole at once, below). */
export type JsonPiece = { position: string; text: string; value?: unknown } | { position: string; error: string };

/**
 * Where the next record of a CloudTrail log begins, as CloudTrail writes its logs (minified,
 * `eventVersion` first): `},{"eventVersion"`. Valid JSON holds these bytes only between two
 * objects of an array (the quote cannot close a string: `eventVersion` would follow it), so at
 * depth 1 of `Records` they are the end of the element, unless an array nested in the record
 * holds such objects: then the element does not parse, and the byte scanner reads it.
 */
const NEXT_RECORD = Buffer.from('},{"eventVersion"');

/** The bytes of the value being collected: a whole document, an element, or junk. */
interface Unit {
  junk: boolean;
  parts: Buffer[];
  preview: string;
}

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const LF = 0x0a;
const MAX_KEY = 32;
const PREVIEW = 40;

const isSpace = (c: number) => c === 0x20 || c === LF || c === 0x0d || c === 0x09;
// the bytes of a UTF-8 byte order mark (EF BB BF): never the start of JSON
const isBom = (c: number) => c === 0xef || c === 0xbb || c === 0xbf;
// the bytes that change nothing inside a value (all but quotes, brackets, line breaks)
const BORING = new Uint8Array(256).fill(1);
for (const c of [QUOTE, OPEN_BRACE, CLOSE_BRACE, OPEN_BRACKET, CLOSE_BRACKET, LF]) BORING[c] = 0;
const continuesValue = (c: number) => isSpace(c) || c === QUOTE || c === CLOSE_BRACE || c === CLOSE_BRACKET || c === COMMA || c === COLON;

export class JsonRecordSplitter {
  private depth = 0;
  private inString = false;
  private escaped = false;
  private line = 1;
  private lineStart = false;
  private lastDocLine = 0;
  private ordinal = 0;
  private doc: Doc | undefined;
  private unit: Unit | undefined;
  /** Where the unit's bytes, and the first key's characters, start in the current chunk. */
  private unitFrom = 0;
  private keyFrom = 0;
  private out: JsonPiece[] = [];

  private bytesRead = 0;
  /** Elements read whole (found by {@link NEXT_RECORD} and parsed at once) rather than scanned byte by byte. */
  elementsReadWhole = 0;
  /** Attempts to read an element whole that the byte scanner had to take over. */
  wholeReadMisses = 0;

  /** Whether no byte has been fed yet. */
  isEmpty(): boolean {
    return this.bytesRead === 0;
  }

  /** Feeds a chunk of bytes; returns the events completed by it. */
  push(buf: Buffer): JsonPiece[] {
    this.bytesRead += buf.length;
    this.unitFrom = 0;
    this.keyFrom = 0;
    const n = buf.length;
    let nextLf = -1;
    let nextRecord = -1;
    // a failed whole read decoded the bytes up to its boundary: none of them is tried again, so
    // documents that each miss (one-record logs on one line) cost one decode, not one each
    let noWholeReadBefore = 0;
    let i = 0;
    while (i < n) {
      if (this.inString) {
        if (nextLf < i) {
          nextLf = buf.indexOf(LF, i);
          if (nextLf < 0) nextLf = n;
        }
        const q = buf.indexOf(QUOTE, i);
        if (nextLf < (q < 0 ? n : q)) {
          // a raw line break inside a string: the value was cut short at the end of its line
          this.cut(this.line);
          i = nextLf;
          continue;
        }
        if (q < 0) {
          this.escaped = oddBackslashesBefore(buf, n, i === 0 && this.escaped);
          this.sniffKey(buf, n);
          break;
        }
        const escapedQuote = oddBackslashesBefore(buf, q, i === 0 && this.escaped);
        this.escaped = false;
        if (!escapedQuote) {
          this.inString = false;
          this.sniffKey(buf, q);
          if (this.doc?.sniff?.stage === 'key') this.doc.sniff.stage = 'colon';
        }
        i = q + 1;
        continue;
      }
      const c = buf[i]!;
      if (
        c === OPEN_BRACE &&
        i >= noWholeReadBefore &&
        this.doc?.container === 'Records' &&
        !this.doc.scanOnly &&
        this.unit === undefined &&
        this.isBetweenElements()
      ) {
        if (nextRecord < i) {
          nextRecord = buf.indexOf(NEXT_RECORD, i);
          if (nextRecord < 0) nextRecord = n;
        }
        if (nextLf < i) {
          nextLf = buf.indexOf(LF, i);
          if (nextLf < 0) nextLf = n;
        }
        if (nextRecord < n) {
          if (this.readWhole(buf, i, nextRecord + 1, nextLf)) {
            i = nextRecord + 1;
            continue;
          }
          noWholeReadBefore = nextRecord + 1;
          this.wholeReadMisses++;
        }
      }
      if (this.lineStart) {
        this.lineStart = false;
        if (this.isCutByLineStart(c)) {
          this.cut(this.line - 1);
          continue; // the byte starts afresh, between documents
        }
      }
      if (BORING[c] && this.depth > 0 && this.doc?.sniff === undefined && !this.isBetweenElements()) {
        // inside a value only quotes, brackets and line breaks matter: skip the run
        i++;
        while (i < n && BORING[buf[i]!]) i++;
        continue;
      }
      if (c === LF) {
        this.line++;
        this.lineStart = true;
      } else if (this.doc && !isSpace(c)) {
        this.doc.lastContentLine = this.line;
      }
      if (this.depth === 0) this.betweenDocuments(i, c);
      else if (this.isBetweenElements()) this.betweenElements(i, c);
      else this.inValue(buf, i, c);
      i++;
    }
    if (this.unit && !this.unit.junk) this.unit.parts.push(buf.subarray(this.unitFrom, n));
    return this.take();
  }

  /**
   * Ends the input; returns what was still pending: the error of an unfinished event, or, with
   * `reason` (the input could not be read to its end), always one error saying so.
   */
  end(reason?: string): JsonPiece[] {
    const message = reason ? `cut short: ${reason}` : 'unexpected end of input: the JSON is cut short';
    const doc = this.doc;
    if (this.unit?.junk && !reason) this.endJunk();
    else if (this.unit || (doc?.container && !doc.closed)) this.out.push({ position: this.unitPosition(), error: message });
    else if (reason) this.out.push({ position: `line ${this.line}`, error: message });
    this.reset();
    return this.take();
  }

  /**
   * One record of a CloudTrail log, `buf[from, to)`, parsed at once: a single `JSON.parse` of
   * its bytes instead of a scan of each byte then that same parse. False when it is not a whole
   * record on one line (a nested array held the boundary's bytes, a line break, malformed
   * JSON): the byte scanner reads it, and the rest of the document, with its positions and
   * errors.
   */
  private readWhole(buf: Buffer, from: number, to: number, nextLf: number): boolean {
    const doc = this.doc!;
    if (nextLf < to) {
      doc.scanOnly = true;
      return false;
    }
    const text = buf.toString('utf8', from, to);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      doc.scanOnly = true;
      return false;
    }
    doc.lastContentLine = this.line;
    this.lineStart = false;
    this.out.push({ position: elementPosition(doc), text, value });
    doc.index++;
    this.elementsReadWhole++;
    return true;
  }

  private betweenDocuments(i: number, c: number): void {
    if (this.unit?.junk) {
      if (c !== LF && c !== OPEN_BRACE && c !== OPEN_BRACKET) return this.junkByte(c);
      this.endJunk();
      this.reset();
    }
    if (isSpace(c) || isBom(c)) return;
    this.doc = this.newDoc();
    this.depth = 1;
    if (c === OPEN_BRACE) {
      this.doc.sniff = { stage: 'open', key: '' };
      this.startUnit(false, i);
    } else if (c === OPEN_BRACKET) {
      this.doc.container = 'array';
      this.doc.containerDepth = 1;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      this.out.push({ position: this.docPosition(), error: `unexpected "${String.fromCharCode(c)}" between documents` });
      this.reset();
    } else {
      this.depth = 0;
      this.startUnit(true, i);
      this.junkByte(c);
    }
  }

  private isBetweenElements(): boolean {
    const doc = this.doc;
    return doc?.container !== undefined && !doc.closed && this.depth === doc.containerDepth;
  }

  private betweenElements(i: number, c: number): void {
    const doc = this.doc!;
    if (this.unit?.junk) {
      if (c !== COMMA && c !== CLOSE_BRACKET && c !== OPEN_BRACE && c !== OPEN_BRACKET) return this.junkByte(c);
      this.endJunk();
      doc.index++;
    }
    if (isSpace(c) || isBom(c) || c === COMMA) return;
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      this.startUnit(false, i);
      this.depth++;
    } else if (c === CLOSE_BRACKET) {
      this.depth--;
      if (this.depth === 0) this.reset();
      else doc.closed = true;
    } else {
      this.startUnit(true, i);
      this.junkByte(c);
    }
  }

  private inValue(buf: Buffer, i: number, c: number): void {
    const doc = this.doc!;
    if (doc.sniff) this.sniffByte(c);
    if (c === QUOTE) {
      this.inString = true;
      this.escaped = false;
      this.keyFrom = i + 1;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      this.depth++;
      if (doc.sniff && WRAPPER_KEYS.has(doc.sniff.key)) {
        // `{"Records": [`: the elements are the events; the wrapper itself is not kept
        doc.container = doc.sniff.key as Container;
        doc.containerDepth = 2;
        this.unit = undefined;
      }
      doc.sniff = undefined;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      this.depth--;
      if (this.depth === 0) {
        if (this.unit) this.emit(buf, i + 1, this.docPosition());
        this.reset();
      } else if (this.isBetweenElements() && this.unit) {
        this.emit(buf, i + 1, this.unitPosition());
        doc.index++;
      }
    }
  }

  /** Follows `{ "key" : [` one token at a time; anything else makes a plain document. */
  private sniffByte(c: number): void {
    const doc = this.doc!;
    const sniff = doc.sniff!;
    if (isSpace(c)) return;
    if (sniff.stage === 'open' && c === QUOTE) sniff.stage = 'key';
    else if (sniff.stage === 'colon' && c === COLON) sniff.stage = 'value';
    else if (!(sniff.stage === 'value' && c === OPEN_BRACKET)) doc.sniff = undefined;
  }

  /** Collects the first key's characters while its string is scanned. */
  private sniffKey(buf: Buffer, to: number): void {
    const doc = this.doc;
    if (doc?.sniff?.stage !== 'key') return;
    doc.sniff.key += buf.toString('latin1', this.keyFrom, Math.min(to, this.keyFrom + MAX_KEY + 1));
    if (doc.sniff.key.length > MAX_KEY) doc.sniff = undefined;
  }

  private isCutByLineStart(c: number): boolean {
    return this.doc !== undefined && this.depth > 0 && !continuesValue(c) && !this.isBetweenElements();
  }

  /** Ends the document being read at the end of `line`: one error if it was inside a value. */
  private cut(line: number): void {
    if (this.unit?.junk) this.endJunk();
    else if (this.unit) this.out.push({ position: this.unitPosition(), error: `cut short: line ${line} ends inside a JSON value` });
    this.reset();
  }

  private startUnit(junk: boolean, i: number): void {
    this.unit = { junk, parts: [], preview: '' };
    this.unitFrom = i;
  }

  private junkByte(c: number): void {
    const unit = this.unit!;
    if (c === QUOTE) {
      this.inString = true;
      this.escaped = false;
    }
    if (unit.preview.length < PREVIEW) unit.preview += String.fromCharCode(c);
  }

  private endJunk(): void {
    const found = this.unit!.preview.trim();
    const error = isJson(found)
      ? `expected an event object, found ${JSON.stringify(found)}`
      : `invalid JSON: unexpected text ${JSON.stringify(found)}`;
    this.out.push({ position: this.unitPosition(), error });
    this.unit = undefined;
  }

  private emit(buf: Buffer, end: number, position: string): void {
    const unit = this.unit!;
    const text =
      unit.parts.length === 0
        ? buf.toString('utf8', this.unitFrom, end)
        : Buffer.concat([...unit.parts, buf.subarray(this.unitFrom, end)]).toString('utf8');
    this.out.push({ position, text });
    this.unit = undefined;
  }

  private newDoc(): Doc {
    const firstOnLine = this.lastDocLine !== this.line;
    this.lastDocLine = this.line;
    this.ordinal++;
    return {
      ordinal: this.ordinal,
      startLine: this.line,
      lastContentLine: this.line,
      firstOnLine,
      containerDepth: 0,
      closed: false,
      index: 0,
    };
  }

  private docPosition(): string {
    return this.doc ? documentPosition(this.doc) : `line ${this.line}`;
  }

  private unitPosition(): string {
    return this.doc?.container ? elementPosition(this.doc) : this.docPosition();
  }

  private reset(): void {
    this.depth = 0;
    this.doc = undefined;
    this.unit = undefined;
    this.inString = false;
  }

  private take(): JsonPiece[] {
    const out = this.out;
    this.out = [];
    return out;
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Whether the quote (or chunk end) at `index` is escaped by an odd run of backslashes. */
function oddBackslashesBefore(buf: Buffer, index: number, carried: boolean): boolean {
  let count = 0;
  for (let j = index - 1; j >= 0 && buf[j] === BACKSLASH; j--) count++;
  // a backslash at the very end of the previous chunk escapes the first byte of this one
  if (carried && count === index) count++;
  return count % 2 === 1;
}
