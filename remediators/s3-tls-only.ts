import { sendChange } from './send-change';
import type { PutBucketPolicyCommandInput } from '@aws-sdk/client-s3';
import type { Plan, Remediator } from '../core/control';
import type { Finding } from '../core/finding';
import { partitionOf } from '../core/resources';
import { asObject, type Json } from '../detectors/json';
import { parseBucketPolicy } from '../detectors/s3-bucket-policy';
import { s3Sdk } from '../detectors/s3-reads';
import { s3Bucket } from '../detectors/s3-resources';
import { evaluateTlsOnly, s3TlsOnly, type TlsOnlyPolicy, type TlsOnlyState } from '../detectors/s3-tls-only';

/** The Sid of the one statement the fix adds: fixed, so a human (and the next fix) can tell it is Rampart's. */
export const TLS_ONLY_SID = 'RampartTlsOnly';

/** "Bucket policies are limited to 20 KB in size" (Amazon S3 user guide, bucket policies). */
export const BUCKET_POLICY_MAX_BYTES = 20 * 1024;

/** The statement the fix merges: deny every S3 action, to everyone, on the bucket and its objects, without TLS. */
export function tlsOnlyStatement(bucketArn: string): Json {
  return {
    Sid: TLS_ONLY_SID,
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:*',
    Resource: [bucketArn, `${bucketArn}/*`],
    Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  };
}

/**
 * The policy text with the TLS statement added and every other statement, and every other
 * member of the document (`Version`, `Id`), exactly as they were; a policy of one statement
 * object becomes a list of it and ours. `null`: a policy of that statement alone.
 */
export function mergedPolicy(current: string | null, bucketArn: string): { policy: string } | { reason: string } {
  const statement = tlsOnlyStatement(bucketArn);
  if (current === null) return { policy: JSON.stringify({ Version: '2012-10-17', Statement: [statement] }) };
  const parsed = parseBucketPolicy(current);
  if ('error' in parsed) return { reason: `${parsed.error}: Rampart merges only into a policy it can read` };
  // Sids are unique in a policy: a statement of ours that no longer denies was changed by someone
  if (parsed.statements.some((s) => s.Sid === TLS_ONLY_SID)) {
    return {
      reason:
        `the bucket policy has a ${TLS_ONLY_SID} statement that no longer denies requests without TLS on the bucket ` +
        `and its objects: someone changed it; Rampart does not rewrite a statement, a human must look`,
    };
  }
  return { policy: JSON.stringify({ ...parsed.document, Statement: [...parsed.statements, statement] }) };
}

/**
 * Pure: the PutBucketPolicy that adds the TLS statement to the bucket's policy, never removing
 * or rewriting another statement; refused when the result would pass the 20 KB policy limit.
 */
export function planTlsOnly(finding: Finding, state: TlsOnlyState, policy: TlsOnlyPolicy): Plan {
  const ref = s3Bucket.arn.parse(finding.resourceArn);
  if (!ref || !finding.region) return { change: null, reason: `cannot tell the bucket and its region from ${finding.resourceArn}` };
  const evaluation = evaluateTlsOnly(state, policy, ref);
  if (evaluation.status === 'compliant') return { change: null, reason: 'the bucket policy already denies requests without TLS' };
  const merged = mergedPolicy(state.policy, finding.resourceArn);
  if ('reason' in merged) return { change: null, reason: merged.reason };
  const bytes = new TextEncoder().encode(merged.policy).length;
  if (bytes > BUCKET_POLICY_MAX_BYTES) {
    return {
      change: null,
      reason: `the policy with the TLS statement would be ${bytes} bytes, over the 20 KB bucket policy limit (${BUCKET_POLICY_MAX_BYTES} bytes)`,
    };
  }
  const input: PutBucketPolicyCommandInput = {
    Bucket: ref.bucket,
    Policy: merged.policy,
    ...(finding.account ? { ExpectedBucketOwner: finding.account } : {}),
  };
  return {
    change: { service: 's3', operation: 'PutBucketPolicy', region: finding.region, input: input as unknown as Record<string, unknown> },
  };
}

export const s3TlsOnlyRemediator: Remediator<TlsOnlyState, TlsOnlyPolicy, 's3-tls-only'> = {
  id: 's3-tls-only',
  defaultRisk: 'low',
  // S3 website endpoints serve HTTP only: denying it takes a static website down, so a human decides
  risk: (finding, policy) => (asObject(finding.observed)?.website === true ? 'high' : policy.risk),
  plan: (finding, state, policy) => planTlsOnly(finding, state, policy),

  async apply(change, clients) {
    const sdk = s3Sdk();
    await sendChange(sdk, sdk.S3Client, change, clients, Object.keys(s3TlsOnlyRemediator.permissions));
  },

  async verify(ref, clients, policy) {
    const observation = await s3TlsOnly.readState(ref, clients);
    if (observation.status !== 'known')
      return { compliant: false, reason: observation.status === 'gone' ? observation.reason : 'state unreadable' };
    const evaluation = evaluateTlsOnly(observation.state, policy, ref);
    return evaluation.status === 'compliant'
      ? { compliant: true, state: observation.state }
      : { compliant: false, state: observation.state, reason: evaluation.reason };
  },

  targetOf: (change) => s3Bucket.arn.build({ bucket: String(change.input.Bucket) }, { partition: partitionOf(change.region) }),

  permissions: {
    PutBucketPolicy: { actions: ['s3:PutBucketPolicy'], resources: ['arn:${Partition}:s3:::*'] },
  },
};
