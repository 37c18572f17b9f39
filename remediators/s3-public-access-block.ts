import { sendChange } from './send-change';
import type { PutPublicAccessBlockCommandInput } from '@aws-sdk/client-s3';
import type { PutPublicAccessBlockCommandInput as PutAccountBlockInput } from '@aws-sdk/client-s3-control';
import type { Change, Plan, Remediator } from '../core/control';
import type { Finding } from '../core/finding';
import { partitionOf, refFromArn } from '../core/resources';
import {
  BLOCK_SETTINGS,
  evaluatePublicAccessBlock,
  requiredSettings,
  s3ControlSdk,
  s3PublicAccessBlock,
  settingsFrom,
  type BlockSettings,
  type PublicAccessBlockPolicy,
  type PublicAccessBlockState,
} from '../detectors/s3-public-access-block';
import { s3Sdk } from '../detectors/s3-reads';
import { s3AccountPublicAccessBlock, s3Bucket } from '../detectors/s3-resources';

const OPERATION = 'PutPublicAccessBlock';

/**
 * The four settings to write: each the policy requires on, the others as they are. A setting
 * is never turned off (PutPublicAccessBlock replaces the whole configuration, so all four are sent).
 */
export function settingsToWrite(current: BlockSettings | null, required: readonly string[]): BlockSettings {
  return Object.fromEntries(BLOCK_SETTINGS.map((s) => [s, current?.[s] === true || required.includes(s)])) as BlockSettings;
}

/**
 * Pure: the one PutPublicAccessBlock that turns on what the policy requires: S3's for a bucket
 * (in its region, with `ExpectedBucketOwner`), S3 Control's for the account (`AccountId`).
 */
export function planPublicAccessBlock(finding: Finding, state: PublicAccessBlockState, policy: PublicAccessBlockPolicy): Plan {
  const parsed = refFromArn(finding.resourceArn, [s3Bucket, s3AccountPublicAccessBlock], finding.account);
  if (!parsed || !finding.region) return { change: null, reason: `cannot tell the resource and its region from ${finding.resourceArn}` };
  const ref = { ...parsed, region: finding.region };
  if (evaluatePublicAccessBlock(state, policy, ref).status === 'compliant')
    return { change: null, reason: 'Block Public Access already has the settings the policy requires' };
  const need = requiredSettings(ref, state.tags, policy);
  if (!need) return { change: null, reason: 'the policy does not hold the account-level Block Public Access' };
  // a website bucket the policy may exempt by tag must not lose its public policy to a guess
  if (need.undecided) return { change: null, reason: 'whether the bucket is a public website the policy exempts takes its tags' };
  const settings = settingsToWrite(state.settings, need.required);
  if (s3AccountPublicAccessBlock.is(ref)) {
    const input: PutAccountBlockInput = { AccountId: ref.owner, PublicAccessBlockConfiguration: settings };
    return {
      change: { service: 's3control', operation: OPERATION, region: finding.region, input: input as unknown as Record<string, unknown> },
    };
  }
  if (!s3Bucket.is(ref)) return { change: null, reason: `${finding.resourceArn} is not a bucket` };
  const input: PutPublicAccessBlockCommandInput = {
    Bucket: ref.bucket,
    PublicAccessBlockConfiguration: settings,
    ...(finding.account ? { ExpectedBucketOwner: finding.account } : {}),
  };
  return { change: { service: 's3', operation: OPERATION, region: finding.region, input: input as unknown as Record<string, unknown> } };
}

/** Does the re-read configuration carry every setting the change turned on? */
function carries(state: PublicAccessBlockState, written: Change): boolean {
  const wanted = settingsFrom(written.input.PublicAccessBlockConfiguration as Record<string, unknown> | undefined);
  return BLOCK_SETTINGS.every((s) => !wanted[s] || state.settings?.[s] === true);
}

export const s3PublicAccessBlockRemediator: Remediator<PublicAccessBlockState, PublicAccessBlockPolicy, 's3-public-access-block'> = {
  id: 's3-public-access-block',
  // blocking public access can take a public site or a partner's access down
  defaultRisk: 'high',
  risk: (_finding, policy) => policy.risk,
  plan: (finding, state, policy) => planPublicAccessBlock(finding, state, policy),

  async apply(change, clients) {
    if (change.service === 's3control') {
      const sdk = s3ControlSdk();
      await sendChange(sdk, sdk.S3ControlClient, change, clients, [OPERATION]);
    } else {
      const sdk = s3Sdk();
      await sendChange(sdk, sdk.S3Client, change, clients, [OPERATION]);
    }
  },

  async verify(ref, clients, policy, written) {
    const observation = await s3PublicAccessBlock.readState(ref, clients);
    if (observation.status !== 'known')
      return { compliant: false, reason: observation.status === 'gone' ? observation.reason : 'state unreadable' };
    const evaluation = evaluatePublicAccessBlock(observation.state, policy, ref);
    if (evaluation.status === 'compliant' || carries(observation.state, written)) return { compliant: true, state: observation.state };
    return {
      compliant: false,
      state: observation.state,
      reason: evaluation.status === 'violation' ? evaluation.reason : `${written.operation} does not read back`,
    };
  },

  targetOf: (change) => {
    const partition = partitionOf(change.region);
    return change.service === 's3control'
      ? s3AccountPublicAccessBlock.arn.build({ owner: String(change.input.AccountId) }, { partition })
      : s3Bucket.arn.build({ bucket: String(change.input.Bucket) }, { partition });
  },

  permissions: {
    // the IAM action behind PutPublicAccessBlock (bucket) is s3:PutBucketPublicAccessBlock
    [OPERATION]: { actions: ['s3:PutBucketPublicAccessBlock'], resources: ['arn:${Partition}:s3:::*'] },
    // S3 Control's PutPublicAccessBlock: s3:PutAccountPublicAccessBlock, which takes no resource type (`*` alone)
    [`s3control:${OPERATION}`]: { actions: ['s3:PutAccountPublicAccessBlock'], resources: ['*'] },
  },
};
