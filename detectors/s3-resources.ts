import { defineKind, type ResourceRef } from '../core/resources';

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
  parse: (parts) => (parts.service === 's3' && !parts.region && !parts.accountId && parts.resource !== '' && !parts.resource.includes('/') ? { bucket: parts.resource } : undefined),
  nameOf: (ref) => ref.bucket,
  notFoundCodes: ['NoSuchBucket'],
});

/**
 * A bucket reference.
 *
 * @example bucketRef('logs', 'eu-west-1').arn === 'arn:aws:s3:::logs'
 */
export function bucketRef(bucket: string, region?: string, account?: string): BucketRef {
  return s3Bucket.ref({ bucket }, { region, account });
}
