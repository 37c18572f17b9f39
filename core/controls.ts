/**
 * A control's id, as core sees it: kebab-case and identical everywhere (policy key, finding,
 * rule name). Core knows no id; the registry (controls/index.ts) derives the closed `ControlId`
 * union of the registered controls.
 */
export type ControlId = string;

export const SEVERITIES = ['low', 'medium', 'high'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const RISKS = ['low', 'high'] as const;
export type Risk = (typeof RISKS)[number];
