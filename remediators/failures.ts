import { permissionOf, type Change, type Control } from '../core/control';
import { messageOf } from '../core/errors';
import type { Outcome } from '../core/outcome';
import { awsErrorName } from '../detectors/aws-errors';

/**
 * Errors the remediators raise themselves, after asking AWS what an ambiguous error meant.
 * `WAFNonexistentItemException` from AssociateWebACL names no item: the web ACL may be gone,
 * or WAF may not see a brand-new stage yet (while the stage is there, unprotected).
 */
export const REMEDIATION_ERRORS = {
  /** The ACL to attach does not exist: a fix that cannot work until a human restores it or maps another. */
  webAclMissing: 'Rampart.WebAclMissing',
  /** The resource exists but the service does not see it yet: try again in a moment. */
  notYetVisible: 'Rampart.NotYetVisible',
  /**
   * The first calls of a fix were made, a follow-up failed: never retried, since a new plan
   * would see the first calls made and never send the rest (a method restored but not
   * deployed). A human finishes it; the message says what was made.
   */
  partlyApplied: 'Rampart.PartlyApplied',
} as const;

/**
 * The errors the workflow's tasks throw for the state machine to retry (with backoff; the
 * construct sets how often): throttles, other transient faults, a resource the service does
 * not see yet, and a fix that does not read back yet.
 */
export const WORKFLOW_RETRY_ERRORS = [
  'Rampart.Throttled',
  'Rampart.Transient',
  'Rampart.NotYetVisible',
  'Rampart.NotYetCompliant',
] as const;
export type WorkflowRetryError = (typeof WORKFLOW_RETRY_ERRORS)[number];

/**
 * Notify's error when the record on the finding was made but the publish failed: after the
 * dead letter, the workflow ends as it would have. Any other Notify error means the record was
 * not made (the finding may be open): the workflow then fails, which is alarmed and lets the
 * detector's recovery start it again.
 */
export const PUBLISH_FAILED = 'Rampart.PublishFailed';

export function remediationError(name: (typeof REMEDIATION_ERRORS)[keyof typeof REMEDIATION_ERRORS], message: string): Error {
  return Object.assign(new Error(message), { name });
}

const DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'WAFPermissionException']);
const THROTTLED = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'SlowDown',
  'RequestLimitExceeded',
  'WAFLimitsExceededException',
  'ProvisionedThroughputExceededException',
  'RequestThrottled',
  'RequestThrottledException',
  'KMSThrottlingException',
]);
/** Networking and timeout errors of the SDK's HTTP handler and of Node. */
const NETWORK = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'NetworkingError',
]);

/**
 * A fault that may pass by itself: a throttle, a 5xx, a timeout or a dropped connection, or a
 * resource the service does not see yet. Trying the same call again later is safe and may work.
 */
export function isTransient(error: unknown): boolean {
  const code = awsErrorName(error);
  if (code && (THROTTLED.has(code) || NETWORK.has(code) || code === REMEDIATION_ERRORS.notYetVisible)) return true;
  const e = error as { $fault?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown; code?: string } | null;
  if (typeof e !== 'object' || e === null) return false;
  if (e.code && NETWORK.has(e.code)) return true;
  return e.$fault === 'server' || (e.$metadata?.httpStatusCode ?? 0) >= 500 || Boolean(e.$retryable);
}

export interface Failure {
  outcome: Outcome;
  errorCode: string;
  reason: string;
  /** The fault may pass: the workflow tries again (the CLI reports it). */
  retryable?: true;
}

/**
 * An AWS error during a fix, as an outcome and a sentence a human understands. AccessDenied
 * names the permission the failed call needed: the write's when the write failed, the reads'
 * when reading back failed (the role may lack it, or an SCP or permissions boundary may deny
 * it although the role allows it). The sentence says what happened, never what may happen
 * next: whoever calls decides whether to try again.
 */
export function describeFailure(
  error: unknown,
  change: Change,
  control: Pick<Control, 'detector' | 'remediator' | 'resources'>,
  phase: 'write' | 'read' = 'write',
): Failure {
  const { remediator } = control;
  const code = awsErrorName(error) ?? 'Error';
  const target = remediator.targetOf(change);
  const what = phase === 'write' ? `${change.operation} on ${target}` : `reading ${target} back`;
  if (code === REMEDIATION_ERRORS.webAclMissing || code === REMEDIATION_ERRORS.partlyApplied)
    return { outcome: 'failed', errorCode: code, reason: messageOf(error) };
  if (code === REMEDIATION_ERRORS.notYetVisible) return { outcome: 'failed', errorCode: code, reason: messageOf(error), retryable: true };
  // "gone" is what the control's resource kinds say it is
  if (control.resources.some((k) => k.notFoundCodes.includes(code)))
    return { outcome: 'resource-gone', errorCode: code, reason: `${target} no longer exists (${code})` };
  if (DENIED.has(code)) {
    const needed =
      phase === 'write'
        ? (permissionOf(remediator, change)?.actions.join(' and ') ?? change.operation)
        : [...new Set(control.detector.readPermissions.flatMap((p) => p.actions))].join(', ');
    return {
      outcome: 'failed',
      errorCode: code,
      reason: `${what} was denied: it needs ${needed}. The guard's role may lack it, or a service control policy or permissions boundary may deny it.`,
    };
  }
  if (isTransient(error)) {
    const how = THROTTLED.has(code) ? 'was throttled' : 'failed with a transient error';
    return { outcome: 'failed', errorCode: code, reason: `${what} ${how} (${code}: ${messageOf(error)})`, retryable: true };
  }
  return { outcome: 'failed', errorCode: code, reason: `${what} failed: ${code}: ${messageOf(error)}` };
}
