import * as crypto from 'node:crypto';
import type { ControlId, Severity } from './controls';

export type { ResourceRef } from './resources';

/** Who made the change that revealed a finding, from CloudTrail `userIdentity`. */
export interface Actor {
  type?: string;
  arn?: string;
  principalId?: string;
  accountId?: string;
  userName?: string;
  /** For assumed roles: the role behind the session (what loop-exclusion and humans care about). */
  sessionIssuerArn?: string;
  /** For calls an AWS service made on someone's behalf (`cloudformation.amazonaws.com`). */
  invokedBy?: string;
}

/** What revealed a finding: an event (CloudTrail or Config) or a sweep of the account. */
export interface Provenance {
  /** CloudTrail `eventID`; for Config events the EventBridge event id; for a sweep, the sweep id. */
  eventId: string;
  eventName?: string;
  eventSource?: string;
  eventTime?: string;
  actor?: Actor;
}

/** The result of judging one resource's state against the policy. */
export type Evaluation =
  | { status: 'compliant' }
  | { status: 'violation'; observed: unknown; desired: unknown; reason: string }
  | { status: 'unknown'; reason: string };

/** A violation of one control by one resource. */
export interface Finding {
  /** Stable for control + resource, so repeated events dedupe onto one finding. */
  id: string;
  control: ControlId;
  severity: Severity;
  resourceArn: string;
  /** The kind's CloudFormation type name (`AWS::S3::Bucket`). */
  resourceType: string;
  region?: string;
  account?: string;
  observed: unknown;
  desired: unknown;
  /** What is wrong, in a sentence (`bucket has default encryption AES256, policy requires aws:kms`). */
  violation: string;
  eventId: string;
  eventName?: string;
  eventSource?: string;
  eventTime?: string;
  actor?: Actor;
}

/**
 * The id of the (single) open finding for a control, an account and a resource: the first 24
 * hex digits of a SHA-256, short enough for a Step Functions execution name. The account is
 * part of it (`''` when an offline event does not say), so the same bucket name or stage ARN
 * in two accounts never dedupes onto one finding.
 *
 * @example findingId('s3-default-encryption', '111122223333', 'arn:aws:s3:::logs') // 24 hex digits
 */
export function findingId(control: ControlId, account: string, resourceArn: string): string {
  return sha256Hex(`${control}\n${account}\n${resourceArn}`).slice(0, 24);
}

// the one-shot crypto.hash (Node.js ≥ 20.12) is a third of the cost of createHash: every
// violation replayed computes an id; the engines field still admits 20.0
const sha256Hex: (text: string) => string =
  typeof crypto.hash === 'function'
    ? (text) => crypto.hash('sha256', text, 'hex')
    : (text) => crypto.createHash('sha256').update(text).digest('hex');
