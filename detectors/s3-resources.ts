import { defineKind, type ResourceRef } from '../core/resources';
import { asObject } from './json';

/** An S3 bucket. Bucket ARNs carry neither region nor account (`arn:aws:s3:::name`): both travel beside. */
export interface BucketRef extends ResourceRef {
  type: 'AWS::S3::Bucket';
  bucket: string;
}

/** S3 buckets, the kind every S3 control guards. */
export const s3Bucket = defineKind<BucketRef, { bucket: string }>({
  type: 'AWS::S3::Bucket',
  configResourceType: 'AWS::S3::Bucket',
  build: ({ bucket }, { partition }) => `arn:${partition}:s3:::${bucket}`,
  // an object ARN (`arn:aws:s3:::bucket/key`) is not a bucket
  parse: (parts) =>
    parts.service === 's3' && !parts.region && !parts.accountId && parts.resource !== '' && !parts.resource.includes('/')
      ? { bucket: parts.resource }
      : undefined,
  nameOf: (ref) => ref.bucket,
  notFoundCodes: ['NoSuchBucket'],
  // a bucket's Config resource id is its name
  configIds: (resourceId) =>
    resourceId !== '' && !resourceId.includes('/') && !resourceId.startsWith('arn:') ? { bucket: resourceId } : undefined,
  tagging: {
    source: 'aws.s3',
    eventSource: 's3.amazonaws.com',
    eventNames: ['PutBucketTagging', 'DeleteBucketTagging'],
    // PutBucketTagging carries the whole new set in requestParameters.Tagging.TagSet.Tag (a list,
    // or an object for one tag); DeleteBucketTagging removes every tag
    editOf(record) {
      const bucket = record.requestParameters?.bucketName;
      if (typeof bucket !== 'string' || bucket === '') return undefined;
      const ref = bucketRef(bucket, record.awsRegion, record.recipientAccountId);
      return record.eventName === 'DeleteBucketTagging'
        ? { ref, set: {}, removed: 'all', complete: true }
        : { ref, set: s3TagSet(record.requestParameters ?? {}), removed: [], complete: true };
    },
  },
});

function s3TagSet(params: Record<string, unknown>): Record<string, string> {
  const tagging = asObject(params.Tagging) ?? asObject(params.tagging);
  const tags = asObject(asObject(tagging?.TagSet))?.Tag;
  const list = Array.isArray(tags) ? tags : tags === undefined ? [] : [tags];
  const out: Record<string, string> = {};
  for (const t of list) {
    const tag = asObject(t);
    if (typeof tag?.Key === 'string') out[tag.Key] = typeof tag.Value === 'string' ? tag.Value : '';
  }
  return out;
}

/**
 * A bucket reference.
 *
 * @example bucketRef('logs', 'eu-west-1').arn === 'arn:aws:s3:::logs'
 */
export function bucketRef(bucket: string, region?: string, account?: string): BucketRef {
  return s3Bucket.ref({ bucket }, { region, account });
}

/**
 * The account-level Block Public Access of an account (S3 Control). AWS gives it no ARN: Config
 * records `AWS::S3::AccountPublicAccessBlock` with the account id as its `resourceId` (one item
 * per region, of the one account-wide setting), so Rampart names it
 * `arn:<partition>:s3::<account>:account-public-access-block`, in the grammar of S3's account-wide
 * ARNs (no region, the account: as Multi-Region Access Points). `owner` is the account in the ARN.
 */
export interface AccountPublicAccessBlockRef extends ResourceRef {
  type: 'AWS::S3::AccountPublicAccessBlock';
  owner: string;
}

const ACCOUNT_BLOCK = 'account-public-access-block';

export const s3AccountPublicAccessBlock = defineKind<AccountPublicAccessBlockRef, { owner: string }>({
  type: 'AWS::S3::AccountPublicAccessBlock',
  configResourceType: 'AWS::S3::AccountPublicAccessBlock',
  build: ({ owner }, { partition }) => `arn:${partition}:s3::${owner}:${ACCOUNT_BLOCK}`,
  parse: (parts) =>
    parts.service === 's3' && !parts.region && /^\d{12}$/.test(parts.accountId) && parts.resource === ACCOUNT_BLOCK
      ? { owner: parts.accountId }
      : undefined,
  nameOf: (ref) => `account ${ref.owner}`,
  // the setting itself is never gone (an account without one reads as every setting off); S3 Control's own not-found error
  notFoundCodes: ['NotFoundException'],
  configIds: (resourceId) => (/^\d{12}$/.test(resourceId) ? { owner: resourceId } : undefined),
});

/**
 * The account-level Block Public Access reference of an account, seen from it.
 *
 * @example accountBlockRef('111122223333', 'us-east-1').arn === 'arn:aws:s3::111122223333:account-public-access-block'
 */
export function accountBlockRef(account: string, region?: string): AccountPublicAccessBlockRef {
  return s3AccountPublicAccessBlock.ref({ owner: account }, { region, account });
}
