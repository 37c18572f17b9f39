import type { S3Client } from '@aws-sdk/client-s3';
import type { AwsClients } from '../core/aws';
import type { Permission } from '../core/control';
import type { RampartEvent } from '../core/events';
import type { ResourceRef } from '../core/resources';
import { lazyModule } from '../core/sdk';
import { awsErrorName } from './aws-errors';
import { refFromConfigEvent } from './config-events';
import { bucketRef, s3Bucket, type BucketRef } from './s3-resources';

/**
 * What every S3 bucket control reads the same way: the SDK module, the bucket an event names,
 * the bucket's tags (exemptions) and the listing of every bucket (the sweep).
 */

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const s3Sdk = lazyModule(() => require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3'));

/** The S3 client of the bucket's own region, and `ExpectedBucketOwner` when the owner is known. */
export function bucketClient(ref: BucketRef, clients: AwsClients): { s3: S3Client; owner: { ExpectedBucketOwner?: string } } {
  return { s3: clients.get(s3Sdk().S3Client, ref.region), owner: ref.account ? { ExpectedBucketOwner: ref.account } : {} };
}

/** The bucket a CloudTrail record (`requestParameters.bucketName`) or a Config item names. */
export function bucketsFrom(event: RampartEvent): ResourceRef[] {
  if (event.kind === 'cloudtrail') {
    const bucket = event.record.requestParameters?.bucketName;
    // real records can carry an empty bucketName (the S3 docs' PutBucketAcl sample)
    if (typeof bucket !== 'string' || bucket === '') return [];
    return [bucketRef(bucket, event.record.awsRegion, event.record.recipientAccountId)];
  }
  return refFromConfigEvent(event, s3Bucket) ?? [];
}

/** The bucket's tags; `{}` when it has none (`NoSuchTagSet`). */
export async function readBucketTags(ref: BucketRef, clients: AwsClients): Promise<Record<string, string>> {
  const { s3, owner } = bucketClient(ref, clients);
  try {
    const out = await s3.send(new (s3Sdk().GetBucketTaggingCommand)({ Bucket: ref.bucket, ...owner }));
    return Object.fromEntries((out.TagSet ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
  } catch (error) {
    if (awsErrorName(error) !== 'NoSuchTagSet') throw error;
    return {};
  }
}

/** True when the error means the bucket no longer exists. */
export function isBucketGone(error: unknown): boolean {
  return s3Bucket.notFoundCodes.includes(awsErrorName(error) ?? '');
}

/** What {@link listBuckets} calls need. */
export const BUCKET_LIST_PERMISSIONS: readonly Permission[] = [
  { actions: ['s3:ListAllMyBuckets'], resources: ['*'] },
  { actions: ['s3:GetBucketLocation'], resources: ['arn:${Partition}:s3:::*'] },
];

/** Every bucket of the account, each with its own region (S3 lists the buckets of every region). */
export async function* listBuckets(clients: AwsClients): AsyncIterable<BucketRef> {
  const sdk = s3Sdk();
  const s3 = clients.get(sdk.S3Client, clients.region);
  for await (const page of sdk.paginateListBuckets({ client: s3 }, { MaxBuckets: 1000 })) {
    for (const bucket of page.Buckets ?? []) {
      if (!bucket.Name) continue;
      let region = bucket.BucketRegion;
      if (!region) {
        const location = await s3.send(new sdk.GetBucketLocationCommand({ Bucket: bucket.Name }));
        // us-east-1 buckets report an empty LocationConstraint
        region = location.LocationConstraint || 'us-east-1';
      }
      yield bucketRef(bucket.Name, region, clients.account);
    }
  }
}
