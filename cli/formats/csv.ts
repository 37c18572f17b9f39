import { describeChange } from '../../core/control';
import { compact, actorName } from '../render';
import type { FindingLine } from '../replay';

/**
 * `--format csv` (RFC 4180 quoting, LF line ends: every line of output passes the terminal neutraliser, which shows a CR; fields quoted when they hold a comma, quote or line
 * break). A field that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first)
 * gets a leading `'`: resource names and actors come from events.
 */
const COLUMNS = [
  'time',
  'severity',
  'control',
  'account',
  'region',
  'resource',
  'violation',
  'observed',
  'desired',
  'actor',
  'change',
  'risk',
];

function field(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function toCsv(findings: readonly FindingLine[]): string {
  const rows = findings.map((f) => [
    f.eventTime ?? '',
    f.severity,
    f.control,
    f.account ?? '',
    f.region ?? '',
    f.resourceArn,
    f.violation,
    compact(f.observed),
    compact(f.desired),
    f.actor ? actorName(f.actor) : '',
    // every call, in the order sent (`CancelKeyDeletion {...}, then EnableKey {...}`), and the notice
    f.change ? describeChange(f.change) : '',
    f.risk ?? '',
  ]);
  return [COLUMNS, ...rows].map((r) => r.map(field).join(',')).join('\n');
}
