import { followUpsText } from '../core/control';
import type { Actor } from '../core/finding';
import { forTerminal } from '../core/neutralise';
import type { FindingLine, ReplayLine, ReplaySummary } from './replay';

/** Human rendering of replay output. Machines use `--json`. Every line printed also passes `forTerminal` (cli/io.ts). */

/** `{algorithm: 'AES256', bucketKeyEnabled: false}` → `algorithm=AES256 bucketKeyEnabled=false`. */
export function compact(value: unknown): string {
  if (value === null || value === undefined) return 'none';
  if (typeof value === 'string') return shortArn(value);
  if (typeof value !== 'object') return String(value);
  return Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `${k}=${typeof v === 'object' && v !== null ? `{${compact(v)}}` : compact(v)}`)
    .join(' ');
}

/** Web ACL ARNs are long; in a table their name says enough (`webacl/rampart-guard`). */
function shortArn(value: string): string {
  const acl = /^arn:aws[a-z-]*:wafv2:[^:]+:[^:]+:regional\/webacl\/([^/]+)\/[^/]+$/.exec(value);
  return acl ? `webacl/${acl[1]}` : value;
}

export function actorName(actor: Actor | undefined): string {
  if (!actor) return '-';
  if (actor.userName) return actor.userName;
  if (actor.arn) return actor.arn.split(/[/:]/).slice(-1)[0] || actor.arn;
  return actor.invokedBy ?? actor.principalId ?? actor.type ?? '-';
}

/** Pads columns to the widest cell; the last column is left ragged. Cells hold event text: neutralised before they are measured. */
export function table(header: string[], rawRows: string[][]): string {
  const rows = rawRows.map((r) => r.map((cell) => forTerminal(cell).replace(/[\n\t]/g, ' ')));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function findingRows(lines: ReplayLine[]): string[][] {
  return lines.flatMap((l) =>
    l.type === 'finding'
      ? [
          [
            l.control,
            l.resourceArn,
            `${compact(l.observed)} → ${compact(l.desired)}`,
            actorName(l.actor as Actor | undefined),
            String(l.eventTime ?? '-'),
          ],
        ]
      : [],
  );
}

export function summaryText(s: ReplaySummary): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return (
    `${plural(s.events, 'event')} from ${plural(s.files, 'input')}: ${s.matched} matched a control, ` +
    `${plural(s.findings, 'finding')}, ${s.unknown} unknown, ${s.compliant} compliant, ${s.exempt} exempt, ${plural(s.errors, 'error')}`
  );
}

/** One line on a planned change: the call and whether a human must approve it. */
export function changeText(f: FindingLine): string {
  if (!f.change) return `no change: ${f.reason ?? 'none planned'}`;
  const approval = f.risk === 'high' ? 'needs approval' : 'automatic';
  return `${f.change.operation} in ${f.change.region} (${approval}): ${JSON.stringify(f.change.input)}${followUpsText(f.change)}`;
}
