import { sendChange } from './send-change';
import type { PutBucketEncryptionCommandInput, ServerSideEncryption, ServerSideEncryptionRule } from '@aws-sdk/client-s3';
import type { Change, Plan, Remediator } from '../core/control';
import type { Finding, ResourceRef } from '../core/finding';
import { partitionOf } from '../core/resources';
import {
  evaluateS3Encryption,
  s3DefaultEncryption,
  s3Sdk,
  stateFromRule,
  strengthOf,
  type S3EncryptionPolicy,
  type S3EncryptionState,
} from '../detectors/s3-default-encryption';
import { s3Bucket } from '../detectors/s3-resources';

const KEY_ARN = /^arn:(aws[a-z-]*):kms:([^:]+):(\d{12}):(key|alias)\/.+$/;

/**
 * The key identifier to write: always a full ARN, because an alias or key id given to S3 is
 * resolved in the caller's account, not in the bucket owner's. Aliases become alias ARNs in
 * the bucket's own region, which is where KMS keys for the bucket must live.
 */
export function fullKeyArn(
  kmsKeyId: string,
  region: string | undefined,
  account: string | undefined,
): { arn: string } | { reason: string } {
  const arn = KEY_ARN.exec(kmsKeyId);
  if (arn) {
    return region && arn[2] !== region
      ? { reason: `KMS key ${kmsKeyId} is in ${arn[2]}, the bucket in ${region}: S3 needs a key of the bucket's region` }
      : { arn: kmsKeyId };
  }
  if (!region || !account) {
    return { reason: `cannot make ${kmsKeyId} a full ARN without the bucket's region and owner account; give kmsKeyId as a key ARN` };
  }
  const resource = kmsKeyId.startsWith('alias/') ? kmsKeyId : `key/${kmsKeyId}`;
  return { arn: `arn:${partitionOf(region)}:kms:${region}:${account}:${resource}` };
}

/**
 * The algorithm a fix writes: the policy's, unless the bucket already has a stronger one and
 * the policy does not ask for exactly its own (a fix never downgrades). A stronger algorithm
 * that fails the policy's key is kept, and only the key changes.
 */
export function algorithmToWrite(state: S3EncryptionState, policy: S3EncryptionPolicy): string {
  return !policy.exact && strengthOf(state.algorithm) > strengthOf(policy.algorithm) ? state.algorithm! : policy.algorithm;
}

/**
 * Pure: the PutBucketEncryption that brings the bucket to the policy. Only what the policy
 * sets changes; the rest of the rule (the bucket key when the policy is silent, blocked
 * encryption types) is written back as it was.
 */
export function planS3Encryption(finding: Finding, state: S3EncryptionState, policy: S3EncryptionPolicy): Plan {
  const evaluation = evaluateS3Encryption(state, policy);
  if (evaluation.status === 'compliant') return { change: null, reason: 'the bucket already has the required default encryption' };
  const bucket = finding.resourceArn.split(':::')[1];
  if (!bucket || !finding.region) return { change: null, reason: `cannot tell the bucket and its region from ${finding.resourceArn}` };
  const algorithm = algorithmToWrite(state, policy);
  const isKms = algorithm !== 'AES256';
  const bucketIsKms = state.algorithm === 'aws:kms' || state.algorithm === 'aws:kms:dsse';
  let keyId: string | undefined;
  if (isKms && policy.kmsKeyId !== undefined) {
    const key = fullKeyArn(policy.kmsKeyId, finding.region, finding.account);
    if ('reason' in key) return { change: null, reason: key.reason };
    keyId = key.arn;
  } else if (isKms && bucketIsKms && state.kmsKeyId) {
    keyId = state.kmsKeyId; // the policy names no key: keep the bucket's
  }
  // S3 Bucket Keys exist for SSE-KMS only
  const bucketKey =
    algorithm === 'aws:kms' ? (policy.bucketKeyEnabled ?? (state.algorithm !== 'AES256' ? state.bucketKeyEnabled : undefined)) : undefined;
  const rule: ServerSideEncryptionRule = {
    ApplyServerSideEncryptionByDefault: { SSEAlgorithm: algorithm as ServerSideEncryption, ...(keyId ? { KMSMasterKeyID: keyId } : {}) },
    ...(bucketKey !== undefined ? { BucketKeyEnabled: bucketKey } : {}),
    ...(state.blockedEncryptionTypes ? { BlockedEncryptionTypes: { EncryptionType: state.blockedEncryptionTypes as never } } : {}),
  };
  const input: PutBucketEncryptionCommandInput = {
    Bucket: bucket,
    ServerSideEncryptionConfiguration: { Rules: [rule] },
    ...(finding.account ? { ExpectedBucketOwner: finding.account } : {}),
  };
  return {
    change: { service: 's3', operation: 'PutBucketEncryption', region: finding.region, input: input as unknown as Record<string, unknown> },
  };
}

function writtenRule(change: Change): ServerSideEncryptionRule | undefined {
  return (change.input as unknown as PutBucketEncryptionCommandInput).ServerSideEncryptionConfiguration?.Rules?.[0];
}

export const s3DefaultEncryptionRemediator: Remediator<S3EncryptionState, S3EncryptionPolicy, 's3-default-encryption'> = {
  id: 's3-default-encryption',
  defaultRisk: 'low',
  risk: (_finding, policy) => policy.risk,
  plan: (finding, state, policy) => planS3Encryption(finding, state, policy),

  async apply(change, clients) {
    const sdk = s3Sdk();
    await sendChange(sdk, sdk.S3Client, change, clients, Object.keys(s3DefaultEncryptionRemediator.permissions));
  },

  async verify(ref: ResourceRef, clients, policy, change) {
    const observation = await s3DefaultEncryption.readState(ref, clients);
    if (observation.status !== 'known')
      return { compliant: false, reason: observation.status === 'gone' ? observation.reason : 'state unreadable' };
    const resolved = await s3DefaultEncryption.resolveState!(observation.state, policy, ref, clients);
    const evaluation = evaluateS3Encryption(resolved, policy);
    if (evaluation.status === 'compliant') return { compliant: true, state: observation.state };
    // an alias written as an alias ARN may read back as such: what we wrote is what the policy wants
    const written = stateFromRule(writtenRule(change));
    const same =
      written.algorithm === observation.state.algorithm &&
      written.kmsKeyId === observation.state.kmsKeyId &&
      (policy.bucketKeyEnabled === undefined || observation.state.bucketKeyEnabled === policy.bucketKeyEnabled);
    return same ? { compliant: true, state: observation.state } : { compliant: false, state: observation.state, reason: evaluation.reason };
  },

  targetOf: (change) => s3Bucket.arn.build({ bucket: String(change.input.Bucket) }, { partition: partitionOf(change.region) }),

  permissions: {
    // the IAM action behind PutBucketEncryption is s3:PutEncryptionConfiguration
    PutBucketEncryption: { actions: ['s3:PutEncryptionConfiguration'], resources: ['arn:${Partition}:s3:::*'] },
  },
};
