import {
  GetBucketEncryptionCommand,
  GetBucketTaggingCommand,
  ListBucketsCommand,
  PutBucketEncryptionCommand,
  S3Client,
  S3ServiceException,
  type ServerSideEncryptionRule,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import type { FakeWorld } from './world';

export function s3Error(name: string, status = 404): S3ServiceException {
  return new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: name });
}

export interface FakeBucket {
  region?: string;
  rule?: ServerSideEncryptionRule;
  tags?: Record<string, string>;
}

/** S3 buckets: default encryption and tags, behind a mocked S3Client. */
export class FakeS3 {
  readonly buckets = new Map<string, FakeBucket>();
  readonly mock = mockClient(S3Client);

  constructor(private readonly world: FakeWorld) {
    this.mock.on(ListBucketsCommand).callsFake((input: { ContinuationToken?: string }) => {
      const { items, next } = this.world.page([...this.buckets.keys()].sort(), input.ContinuationToken);
      return {
        Buckets: items.map((Name) => ({ Name, BucketRegion: this.buckets.get(Name)!.region ?? 'us-east-1' })),
        ...(next ? { ContinuationToken: next } : {}),
      };
    });
    this.mock.on(GetBucketEncryptionCommand).callsFake((input: { Bucket: string }) => {
      const bucket = this.buckets.get(input.Bucket);
      if (!bucket) throw s3Error('NoSuchBucket');
      if (!bucket.rule) throw s3Error('ServerSideEncryptionConfigurationNotFoundError');
      return { ServerSideEncryptionConfiguration: { Rules: [structuredClone(bucket.rule)] } };
    });
    this.mock.on(GetBucketTaggingCommand).callsFake((input: { Bucket: string }) => {
      const bucket = this.buckets.get(input.Bucket);
      if (!bucket) throw s3Error('NoSuchBucket');
      if (!bucket.tags) throw s3Error('NoSuchTagSet');
      return { TagSet: Object.entries(bucket.tags).map(([Key, Value]) => ({ Key, Value })) };
    });
    this.mock
      .on(PutBucketEncryptionCommand)
      .callsFake((input: { Bucket: string; ServerSideEncryptionConfiguration: { Rules: ServerSideEncryptionRule[] } }) => {
        const bucket = this.buckets.get(input.Bucket);
        if (!bucket) throw s3Error('NoSuchBucket');
        bucket.rule = structuredClone(input.ServerSideEncryptionConfiguration.Rules[0]);
        this.world.writes.push(`PutBucketEncryption ${input.Bucket}`);
        return {};
      });
  }
}
