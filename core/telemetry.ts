/**
 * What the services below the Lambda adapters report besides their results: counts (metrics
 * the alarms watch) and warnings. The adapters (`handlers/telemetry.ts`) back it with
 * Powertools; tests pass their own.
 */
export interface Telemetry {
  /** Adds `value` (default 1) to the count metric `metric`. */
  count(metric: string, value?: number): void;
  warn(message: string, data?: Record<string, unknown>): void;
}

/** Telemetry that reports nothing (the CLI, which says what happened in its own output). */
export const NO_TELEMETRY: Telemetry = { count: () => undefined, warn: () => undefined };
