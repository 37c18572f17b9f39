import { compact } from '../render';
import type { FindingLine } from '../replay';

/**
 * `--format markdown`: a GitHub-flavoured table for a pull-request comment or a job summary.
 * Cell text from events is escaped so it can neither end its cell (`|`), break the row, nor
 * render as markup or a link.
 */
function cell(text: string): string {
  return text
    .replace(/\r?\n/g, ' ')
    .replace(/([\\`*_{}[\]()<>#+!|~])/g, '\\$1')
    .trim();
}

export function toMarkdown(findings: readonly FindingLine[]): string {
  if (findings.length === 0) return 'No findings.';
  const header = ['Severity', 'Control', 'Resource', 'Violation', 'Observed → desired', 'Time'];
  const rows = findings.map((f) => [
    f.severity,
    f.control,
    f.resourceArn,
    f.violation,
    `${compact(f.observed)} → ${compact(f.desired)}`,
    f.eventTime ?? '',
  ]);
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
    '',
    `${findings.length} finding${findings.length === 1 ? '' : 's'}.`,
  ].join('\n');
}
