/**
 * The output formats of `replay` and `scan` (`--format`). `table` is for people (cli/render.ts),
 * `json` the stable NDJSON of `--json`; the others are documents built once the run is over,
 * from its finding lines, for the tools people already use: SARIF 2.1.0 (code-scanning UIs),
 * OCSF Compliance Finding (security lakes), ASFF (Security Hub `BatchImportFindings` input),
 * CSV and Markdown (spreadsheets, pull-request comments). The names alone, apart from the
 * renderers: the command line declares its options with them before any command runs.
 */
export const FORMATS = ['table', 'json', 'csv', 'markdown', 'sarif', 'ocsf', 'asff'] as const;
export type Format = (typeof FORMATS)[number];
export type DocumentFormat = Exclude<Format, 'table' | 'json'>;
