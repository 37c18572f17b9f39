import type { AnyRemediator, Change } from '../core/control';
import { messageOf } from '../core/errors';
import type { Outcome } from '../core/outcome';
import { awsErrorName } from '../detectors/aws-errors';

const GONE = new Set(['NoSuchBucket', 'NotFoundException', 'WAFNonexistentItemException']);
const DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'WAFPermissionException']);
const THROTTLED = new Set(['Throttling', 'ThrottlingException', 'TooManyRequestsException', 'SlowDown', 'RequestLimitExceeded', 'WAFLimitsExceededException']);

/**
 * An AWS error during a fix, as an outcome and a sentence a human understands. AccessDenied
 * names the permission the call needed: the role may lack it, or an SCP or permissions
 * boundary may deny it although the role allows it.
 */
export function describeFailure(error: unknown, change: Change, remediator: AnyRemediator): { outcome: Outcome; errorCode: string; reason: string } {
  const code = awsErrorName(error) ?? 'Error';
  const target = remediator.targetOf(change);
  if (GONE.has(code)) return { outcome: 'resource-gone', errorCode: code, reason: `${target} no longer exists (${code})` };
  if (DENIED.has(code)) {
    const needed = remediator.permissions[change.operation]?.actions.join(' and ') ?? change.operation;
    return {
      outcome: 'failed',
      errorCode: code,
      reason: `${change.operation} on ${target} was denied: it needs ${needed}. The guard's role may lack it, or a service control policy or permissions boundary may deny it.`,
    };
  }
  if (THROTTLED.has(code)) {
    return { outcome: 'failed', errorCode: code, reason: `${change.operation} on ${target} was still throttled after the SDK's retries (${code}); it will be tried again` };
  }
  return { outcome: 'failed', errorCode: code, reason: `${change.operation} on ${target} failed: ${code}: ${messageOf(error)}` };
}
