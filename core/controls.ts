/**
 * A control's id, as core sees it: kebab-case and identical everywhere (policy key, finding,
 * rule name). Core knows no id; the registry (controls/index.ts) derives the closed `ControlId`
 * union of the registered controls.
 */
export type ControlId = string;

export const SEVERITIES = ['low', 'medium', 'high'] as const;
export type Severity = (typeof SEVERITIES)[number];
/** Severities ranked, for sorting and for `--fail-on`'s "at or above". */
export const SEVERITY_ORDER: Record<Severity, number> = { low: 1, medium: 2, high: 3 };

export const RISKS = ['low', 'high'] as const;
export type Risk = (typeof RISKS)[number];
