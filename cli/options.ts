import { Option, type Command } from 'commander';
import { SEVERITIES, SEVERITY_ORDER, type Severity } from '../core/controls';
import { FORMATS, type Format } from './formats/names';
import type { FindingLine } from './replay';

/**
 * Options `replay` and `scan` share (and the organization-wide scan will): the output format
 * and the CI gate. One definition, so every command spells and documents them alike.
 */
export interface OutputOptions {
  json?: boolean;
  format?: Format;
  failOn?: Severity;
}

export function outputOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        '--format <format>',
        'table for people; json (the NDJSON of --json), csv, markdown, sarif, ocsf or asff for tools',
      ).choices(FORMATS),
    )
    .addOption(
      new Option('--fail-on <severity>', 'exit 3 when a finding at or above this severity is found (CI gates)').choices(SEVERITIES),
    );
}

/** The format asked for: `--json` is `--format json`. */
export function formatOf(options: OutputOptions): Format {
  return options.json ? 'json' : (options.format ?? 'table');
}

/** Exit code of `--fail-on`: a finding at or above the severity. */
export const FAIL_ON_EXIT = 3;

export function failsGate(findings: Iterable<Pick<FindingLine, 'severity'>>, failOn: Severity | undefined): boolean {
  if (!failOn) return false;
  for (const f of findings) if ((SEVERITY_ORDER[f.severity] ?? 0) >= SEVERITY_ORDER[failOn]) return true;
  return false;
}
