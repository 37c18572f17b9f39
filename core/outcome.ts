import type { Change } from './control';
import type { ControlId } from './controls';

/** How a remediation ended. Anything but `remediated`/`already-compliant` leaves the resource as it was. */
export const OUTCOMES = ['remediated', 'already-compliant', 'resource-gone', 'loop-suspected', 'exempt', 'failed'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface RemediationResult {
  outcome: Outcome;
  control: ControlId;
  resourceArn: string;
  /** The call made (or that would have been made), if any. */
  change: Change | null;
  /** A sentence a human understands. */
  reason: string;
  /** The AWS error code behind a `failed` outcome (`AccessDenied`, `ThrottlingException`...). */
  errorCode?: string;
  /** A `failed` outcome whose fault may pass (a throttle, a 5xx, a timeout): trying again is safe. */
  retryable?: true;
  /** State read back after the fix. */
  verifiedState?: unknown;
}
