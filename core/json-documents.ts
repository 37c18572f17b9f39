/**
 * The top-level documents of a JSON stream as the splitter (`json-records.ts`) tracks them, and
 * how positions are named for error lines: `line 3` for a document alone on its line,
 * `document 2` otherwise; elements as `Records[4]`, `Events[0]`, `[1]`, after the first
 * document prefixed with where their document starts (`line 3 Records[0]`).
 */
/** The arrays a document's elements are taken from: top-level, or under a wrapper key. */
export type Container = 'array' | 'Records' | 'Events';
export const WRAPPER_KEYS: ReadonlySet<string> = new Set(['Records', 'Events']);

export interface Doc {
  ordinal: number;
  startLine: number;
  lastContentLine: number;
  firstOnLine: boolean;
  /** Set when the document turns out to be an array or a wrapper of one. */
  container?: Container;
  containerDepth: number;
  /** The container's array has closed; what is left is the wrapper's tail (`NextToken`). */
  closed: boolean;
  index: number;
  /** An element was not whole where it seemed to end: every element after is scanned byte by byte. */
  scanOnly?: boolean;
  /** Recognising `{"Records": [` or `{"Events": [` token by token; undefined once decided. */
  sniff?: { stage: 'open' | 'key' | 'colon' | 'value'; key: string };
}

/** The position of a whole document: its line when it has one to itself. */
export function documentPosition(doc: Doc): string {
  return doc.firstOnLine && doc.lastContentLine === doc.startLine ? `line ${doc.startLine}` : `document ${doc.ordinal}`;
}

/** The position of the element being read in a container document. */
export function elementPosition(doc: Doc): string {
  const where = doc.ordinal === 1 ? '' : doc.firstOnLine ? `line ${doc.startLine} ` : `document ${doc.ordinal} `;
  return `${where}${doc.container === 'array' ? '' : doc.container}[${doc.index}]`;
}
