import type { Severity } from '../core/controls';
import { forTerminal } from '../core/neutralise';
import { SEVERITY_ORDER } from '../core/controls';
import { actorName } from './render';
import type { FindingLine, PlannedChange } from './replay';

/**
 * The findings as people read them (`--format table`, the default): one block per resource,
 * sorted by time, each of its findings once (the latest event of each control, with the count
 * of events), its severity and the violation sentence, wrapped to the terminal width. With a
 * plan, the change each resource gets, once, as the exact calls it makes ("would fix" when
 * nothing is applied). Colour only on a terminal and without NO_COLOR.
 */

export interface TableStyle {
  /** Columns to fit (the terminal's, else 80). */
  width: number;
  color: boolean;
  /** Show the planned change of each finding. */
  plan: boolean;
  /** The changes are only planned (dry-run, replay): "would fix". */
  wouldFix: boolean;
}

/** The terminal's width and colour choice, as a stream and the environment say. */
export function styleFor(stream: unknown, env: NodeJS.ProcessEnv = process.env): Pick<TableStyle, 'width' | 'color'> {
  const tty = stream as { isTTY?: boolean; columns?: number };
  const columns = Number(env.COLUMNS);
  const width = tty.isTTY && tty.columns ? tty.columns : Number.isInteger(columns) && columns >= 40 ? columns : 80;
  // https://no-color.org: any non-empty NO_COLOR turns colour off
  const color = Boolean(tty.isTTY) && !env.NO_COLOR && env.TERM !== 'dumb';
  return { width: Math.max(40, width), color };
}

/** One time format everywhere: `2024-05-16 09:14:02Z` (UTC, seconds). */
export function timeText(iso: string | undefined): string {
  const t = Date.parse(iso ?? '');
  if (Number.isNaN(t)) return '-';
  return new Date(t)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z');
}

const SGR: Record<Severity, string> = { high: '31;1', medium: '33', low: '36' };

function paint(text: string, code: string, color: boolean): string {
  return color ? `\u001b[${code}m${text}\u001b[0m` : text;
}

/** Words wrapped to `width`, continuation lines indented by `indent`; a word longer than a line (an ARN) is cut. */
export function wrap(text: string, width: number, indent: number, firstIndent = indent): string[] {
  const lines: string[] = [];
  let line = ' '.repeat(firstIndent);
  let fresh = true;
  const room = () => width - line.length;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    let rest = word;
    if (!fresh && rest.length + 1 > room()) {
      lines.push(line);
      line = ' '.repeat(indent);
      fresh = true;
    }
    if (!fresh) line += ' ';
    while (rest.length > room()) {
      const take = Math.max(1, room());
      lines.push(line + rest.slice(0, take));
      rest = rest.slice(take);
      line = ' '.repeat(indent);
    }
    line += rest;
    fresh = false;
  }
  if (line.trim() !== '') lines.push(line);
  return lines;
}

/**
 * A change as the calls it makes: patch operations one by one, other inputs as `key=value`;
 * its follow-up calls after `then`, and its notice last.
 */
export function changeCalls(change: PlannedChange): string {
  const then = (change.followUps ?? []).map((step) => `; then ${changeCalls(step)}`).join('');
  return callText(change) + then + (change.notice ? `. ${change.notice}` : '');
}

function callText(change: PlannedChange): string {
  const input = change.input as { patchOperations?: Array<{ op?: string; path?: string; value?: string }> };
  if (Array.isArray(input.patchOperations)) {
    const target = Object.entries(change.input)
      .filter(([k, v]) => k !== 'patchOperations' && typeof v === 'string')
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(' ');
    const ops = input.patchOperations.map((p) => `${p.op ?? 'replace'} ${p.path ?? ''}${p.value !== undefined ? ` = ${p.value}` : ''}`);
    return `${change.operation} ${target}: ${ops.join('; ')}`;
  }
  return `${change.operation} ${JSON.stringify(change.input)}`;
}

interface ControlEntry {
  latest: FindingLine;
  events: number;
}

interface ResourceGroup {
  resourceArn: string;
  first: number;
  controls: Map<string, ControlEntry>;
}

const timeOf = (f: FindingLine) => {
  const t = Date.parse(f.eventTime ?? '');
  return Number.isNaN(t) ? Number.MAX_SAFE_INTEGER : t;
};

/** Findings grouped by resource, each control's latest event kept; resources by their first finding's time. */
export function groupByResource(findings: readonly FindingLine[]): ResourceGroup[] {
  const groups = new Map<string, ResourceGroup>();
  for (const f of findings) {
    let group = groups.get(f.resourceArn);
    if (!group) groups.set(f.resourceArn, (group = { resourceArn: f.resourceArn, first: timeOf(f), controls: new Map() }));
    group.first = Math.min(group.first, timeOf(f));
    const entry = group.controls.get(f.control);
    if (!entry) group.controls.set(f.control, { latest: f, events: 1 });
    else {
      entry.events++;
      if (timeOf(f) >= timeOf(entry.latest)) entry.latest = f;
    }
  }
  return [...groups.values()].sort((a, b) => a.first - b.first || a.resourceArn.localeCompare(b.resourceArn));
}

/** The rendered block list; every piece of event text is neutralised here, before colour is added. */
export function findingsTable(findings: readonly FindingLine[], style: TableStyle): string {
  const clean = (s: string) => forTerminal(s).replace(/[\n\t]/g, ' ');
  const out: string[] = [];
  for (const group of groupByResource(findings)) {
    const sample = [...group.controls.values()][0]!.latest;
    const where = [sample.resourceType, sample.account, sample.region].filter(Boolean).join(' ');
    out.push(...wrap(`${clean(group.resourceArn)}${where ? ` (${clean(where)})` : ''}`, style.width, 4, 0));
    const entries = [...group.controls.values()].sort(
      (a, b) => (SEVERITY_ORDER[b.latest.severity] ?? 0) - (SEVERITY_ORDER[a.latest.severity] ?? 0) || timeOf(a.latest) - timeOf(b.latest),
    );
    for (const { latest: f, events } of entries) {
      const label = f.severity.toUpperCase().padEnd(6);
      const head = wrap(`${'x'.repeat(6)} ${clean(f.control)}: ${clean(f.violation)}`, style.width, 11, 2);
      head[0] = head[0]!.replace('x'.repeat(6), paint(label, SGR[f.severity] ?? '0', style.color));
      out.push(...head);
      const by = f.actor ? ` by ${clean(actorName(f.actor))}` : '';
      const count = events > 1 ? ` (${events} events, latest shown)` : '';
      out.push(...wrap(`${timeText(f.eventTime)}${by}${count}`, style.width, 11, 9));
      if (style.plan) {
        const verb = style.wouldFix ? 'would fix' : 'fix';
        const text = f.change
          ? `${verb} (${f.risk === 'high' ? 'needs approval' : 'automatic'}, ${clean(f.change.region)}): ${clean(changeCalls(f.change))}`
          : `no fix: ${clean(f.reason ?? 'none planned')}`;
        out.push(...wrap(text, style.width, 11, 9));
      }
    }
    out.push('');
  }
  return out.join('\n').trimEnd();
}
