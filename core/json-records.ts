/**
 * Splits a stream of JSON text into the events it holds, without holding more than one event
 * in memory, so a 100 MB CloudTrail log replays in flat memory. Each event is handed over as
 * text, to be `JSON.parse`d on its own: a malformed event is reported at its position and the
 * ones after it still come through (a streaming parser of the whole document would stop at
 * the first bad byte).
 *
 * Layouts, recognised from the first bytes:
 * - `{"Records": [ ... ]}`: a CloudTrail log file; positions `Records[i]`.
 * - `[ ... ]`: an array of events; positions `[i]`.
 * - one JSON value per line (NDJSON, `aws events` dumps); positions `line n`.
 * - one or more pretty-printed JSON documents one after the other; positions `document n`.
 */
export type JsonPiece = { position: string; text: string } | { position: string; error: string };

type Layout = 'undecided' | 'records' | 'array' | 'lines' | 'documents' | 'after';

const RECORDS_PREFIX = /^\s*\{\s*"Records"\s*:\s*\[/;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
// how much text is enough to tell a CloudTrail log ({"Records": [) from another object
const SNIFF_BYTES = 512;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0xfeff;
}

export class JsonRecordSplitter {
  private layout: Layout = 'undecided';
  private pending = '';
  // scanner state, kept across chunks
  private depth = 0;
  private inString = false;
  private escaped = false;
  private parts: string[] = [];
  private inElement = false;
  private elementIsJunk = false;
  private index = 0;
  private line = 1;

  /** Feeds a chunk; returns the events completed by it. */
  push(chunk: string): JsonPiece[] {
    const out: JsonPiece[] = [];
    if (this.layout === 'undecided') {
      this.pending += chunk;
      if (!this.decide(false)) return out;
      chunk = this.pending;
      this.pending = '';
    }
    this.feed(chunk, out);
    return out;
  }

  /** Ends the input; returns what was still pending (or the error of an unfinished event). */
  end(): JsonPiece[] {
    const out: JsonPiece[] = [];
    if (this.layout === 'undecided') {
      if (!this.decide(true)) return out;
      const text = this.pending;
      this.pending = '';
      this.feed(text, out);
    }
    if (this.layout === 'lines') {
      if (this.pending.trim() !== '') out.push(this.lineText(this.pending));
      this.pending = '';
    } else if (this.inElement || (this.layout !== 'documents' && this.layout !== 'after')) {
      out.push({ position: this.positionLabel(), error: 'unexpected end of input: the JSON is cut short' });
    }
    return out;
  }

  private decide(final: boolean): boolean {
    const text = this.pending;
    const start = text.search(/\S/);
    if (start < 0) {
      if (final) this.layout = 'after';
      return final;
    }
    const first = text.charCodeAt(start);
    if (first === OPEN_BRACKET) {
      this.layout = 'array';
    } else if (first === OPEN_BRACE) {
      if (!final && text.length - start < SNIFF_BYTES) return false;
      const prefix = RECORDS_PREFIX.exec(text);
      if (prefix) {
        this.layout = 'records';
        this.pending = text.slice(prefix[0].length);
        this.depth = 2;
        return true;
      }
      const newline = text.indexOf('\n', start);
      if (newline < 0 && !final) return false;
      this.layout = parses(text.slice(start, newline < 0 ? undefined : newline)) ? 'lines' : 'documents';
    } else {
      // not JSON at all, or NDJSON of non-objects: line mode reports each bad line
      this.layout = 'lines';
    }
    return true;
  }

  private feed(chunk: string, out: JsonPiece[]): void {
    if (this.layout === 'lines') return this.feedLines(chunk, out);
    if (this.layout === 'after') return;
    const container = this.layout === 'records' ? 2 : this.layout === 'array' ? 1 : 0;
    let start = this.inElement ? 0 : -1;
    const n = chunk.length;
    for (let i = 0; i < n; i++) {
      const c = chunk.charCodeAt(i);
      if (this.inString) {
        // jump to the next quote; count the backslashes before it to tell an escaped quote
        const q = chunk.indexOf('"', i);
        if (q < 0) {
          this.escaped = endsWithOddBackslashes(chunk, n, this.escaped && i === 0);
          i = n;
          break;
        }
        const backslashes = countBackslashesBefore(chunk, q, i === 0 && this.escaped);
        this.escaped = false;
        i = q;
        if (backslashes % 2 === 0) this.inString = false;
        continue;
      }
      if (c === QUOTE) {
        this.inString = true;
        this.escaped = false;
        if (!this.inElement && this.depth === container) {
          this.beginJunk();
          start = i;
        }
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (!this.inElement && this.depth === container) {
          this.inElement = true;
          this.elementIsJunk = false;
          start = i;
        }
        this.depth++;
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (this.depth === container) {
          if (this.inElement && this.elementIsJunk) this.emit(chunk, start, i, out);
          if (container === 0) {
            out.push({ position: this.positionLabel(), error: `unexpected "${chunk[i]}" between documents` });
            continue;
          }
          // the Records array or the top-level array closes: the rest is the wrapper's end
          this.layout = 'after';
          return;
        }
        this.depth--;
        if (this.inElement && !this.elementIsJunk && this.depth === container) this.emit(chunk, start, i + 1, out);
      } else if (c === COMMA && this.depth === container) {
        if (this.inElement && this.elementIsJunk) this.emit(chunk, start, i, out);
      } else if (!this.inElement && this.depth === container && !isSpace(c)) {
        this.beginJunk();
        start = i;
      }
    }
    if (this.inElement) this.parts.push(chunk.slice(start));
  }

  private beginJunk(): void {
    if (this.inElement) return;
    this.inElement = true;
    this.elementIsJunk = true;
  }

  private emit(chunk: string, start: number, end: number, out: JsonPiece[]): void {
    const piece = chunk.slice(start, end);
    const text = this.parts.length > 0 ? this.parts.join('') + piece : piece;
    this.parts = [];
    const position = this.positionLabel();
    this.index++;
    this.inElement = false;
    if (this.elementIsJunk) {
      this.elementIsJunk = false;
      out.push({ position, error: `expected an event object, found ${JSON.stringify(text.trim().slice(0, 40))}` });
    } else {
      out.push({ position, text });
    }
  }

  private positionLabel(): string {
    switch (this.layout) {
      case 'records':
        return `Records[${this.index}]`;
      case 'array':
        return `[${this.index}]`;
      case 'documents':
        return `document ${this.index + 1}`;
      default:
        return `line ${this.line}`;
    }
  }

  private feedLines(chunk: string, out: JsonPiece[]): void {
    let text = this.pending + chunk;
    let from = 0;
    for (let nl = text.indexOf('\n', from); nl >= 0; nl = text.indexOf('\n', from)) {
      const line = text.slice(from, nl);
      if (line.trim() !== '') out.push(this.lineText(line));
      this.line++;
      from = nl + 1;
    }
    text = text.slice(from);
    this.pending = text;
  }

  private lineText(line: string): JsonPiece {
    return { position: `line ${this.line}`, text: line };
  }
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function countBackslashesBefore(text: string, index: number, carried: boolean): number {
  let count = 0;
  for (let j = index - 1; j >= 0 && text.charCodeAt(j) === BACKSLASH; j--) count++;
  // a backslash at the very end of the previous chunk escapes the first character of this one
  if (carried && count === index) count++;
  return count;
}

function endsWithOddBackslashes(text: string, n: number, carried: boolean): boolean {
  let count = 0;
  for (let j = n - 1; j >= 0 && text.charCodeAt(j) === BACKSLASH; j--) count++;
  if (carried && count === n) count++;
  return count % 2 === 1;
}
