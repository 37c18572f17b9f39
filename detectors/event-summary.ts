/**
 * What the detector says about an event it cannot parse. The event came from outside and may
 * be anything: 5,000 levels of nesting overflow the stack of `JSON.stringify` (and of any
 * logger that serializes it), a huge one floods the log. So it is walked without recursion,
 * serialized only up to a size, and logged as a bounded summary, never whole.
 */

export interface EventSummary {
  /** Characters of the event as JSON, or a lower bound when it is larger than `maxChars`. */
  chars: number;
  /** Set when `chars` is only a lower bound. */
  larger?: true;
  /** Nesting depth seen (up to where serialization stopped). */
  depth: number;
  type: 'object' | 'array' | 'string' | 'number' | 'boolean' | 'null' | 'other';
  /** Up to 20 top-level keys, each cut to 64 characters. */
  topLevelKeys?: string[];
  source?: string;
  detailType?: string;
}

const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}…` : s);

type Frame = { open: string; close: string; entries: Array<[string | undefined, unknown]>; next: number };

/**
 * JSON of `value` without recursion, or undefined when it is longer than `maxChars`; with its
 * size and depth either way. Plain JSON values only (what a Lambda event is).
 */
export function boundedJson(value: unknown, maxChars: number): { json?: string; chars: number; larger: boolean; depth: number } {
  const parts: string[] = [];
  let chars = 0;
  let depth = 0;
  const emit = (s: string) => {
    chars += s.length;
    if (chars <= maxChars) parts.push(s);
  };
  const stack: Frame[] = [];
  const visit = (v: unknown) => {
    if (v !== null && typeof v === 'object') {
      const isArray = Array.isArray(v);
      const entries: Array<[string | undefined, unknown]> = isArray
        ? v.map((item) => [undefined, item])
        : Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined && typeof x !== 'function');
      emit(isArray ? '[' : '{');
      stack.push({ open: isArray ? '[' : '{', close: isArray ? ']' : '}', entries, next: 0 });
      depth = Math.max(depth, stack.length);
    } else {
      emit(v === undefined || typeof v === 'function' || (typeof v === 'number' && !Number.isFinite(v)) ? 'null' : JSON.stringify(v));
    }
  };
  visit(value);
  while (stack.length > 0 && chars <= maxChars) {
    const frame = stack.at(-1)!;
    if (frame.next >= frame.entries.length) {
      stack.pop();
      emit(frame.close);
      continue;
    }
    const [key, item] = frame.entries[frame.next]!;
    if (frame.next > 0) emit(',');
    frame.next++;
    if (key !== undefined) emit(`${JSON.stringify(key)}:`);
    visit(item);
  }
  const larger = chars > maxChars;
  return { ...(larger ? {} : { json: parts.join('') }), chars, larger, depth };
}

export function summarizeEvent(raw: unknown, maxChars = 256 * 1024): EventSummary & { json?: string } {
  const { json, chars, larger, depth } = boundedJson(raw, maxChars);
  const type =
    raw === null
      ? 'null'
      : Array.isArray(raw)
        ? 'array'
        : ((['object', 'string', 'number', 'boolean'] as const).find((t) => t === typeof raw) ?? 'other');
  const summary: EventSummary & { json?: string } = {
    chars,
    ...(larger ? { larger: true as const } : {}),
    depth,
    type,
    ...(json !== undefined ? { json } : {}),
  };
  if (type === 'object') {
    const obj = raw as Record<string, unknown>;
    summary.topLevelKeys = Object.keys(obj)
      .slice(0, 20)
      .map((k) => cut(k, 64));
    if (typeof obj.source === 'string') summary.source = cut(obj.source, 128);
    if (typeof obj['detail-type'] === 'string') summary.detailType = cut(obj['detail-type'], 128);
  }
  return summary;
}
