import {
  GetBucketEncryptionCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketWebsiteCommand,
  GetPublicAccessBlockCommand,
  ListBucketsCommand,
  PutBucketEncryptionCommand,
  PutBucketPolicyCommand,
  PutPublicAccessBlockCommand,
  S3Client,
  S3ServiceException,
  type PublicAccessBlockConfiguration,
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
  /** The bucket policy text, as S3 keeps it; absent: no policy (`NoSuchBucketPolicy`). */
  policy?: string;
  /** The bucket has a static website configuration. */
  website?: boolean;
  /** Block Public Access of the bucket; absent: none (`NoSuchPublicAccessBlockConfiguration`). */
  publicAccessBlock?: PublicAccessBlockConfiguration;
}

/** "Bucket policies are limited to 20 KB in size" (Amazon S3 user guide). */
const POLICY_LIMIT_BYTES = 20 * 1024;

type GetClient = () => { config: { credentials: unknown } };

/**
 * S3 buckets: default encryption, policy, website, Block Public Access and tags, behind a mocked
 * S3Client. Each account has its own buckets (`bucketsOf`), told apart by the credentials the
 * client signs with; `buckets` are the home account's.
 */
export class FakeS3 {
  private readonly byAccount = new Map<string, Map<string, FakeBucket>>();
  readonly buckets: Map<string, FakeBucket>;
  readonly mock = mockClient(S3Client);

  /** The buckets of an account. */
  bucketsOf(account: string): Map<string, FakeBucket> {
    let buckets = this.byAccount.get(account);
    if (!buckets) this.byAccount.set(account, (buckets = new Map()));
    return buckets;
  }

  private async bucketsFor(getClient: GetClient): Promise<Map<string, FakeBucket>> {
    return this.bucketsOf(await this.world.accountOf(getClient));
  }

  constructor(private readonly world: FakeWorld) {
    this.buckets = this.bucketsOf(world.homeAccount);
    this.mock.on(ListBucketsCommand).callsFake(async (input: { ContinuationToken?: string }, getClient: GetClient) => {
      const buckets = await this.bucketsFor(getClient);
      const { items, next } = this.world.page([...buckets.keys()].sort(), input.ContinuationToken);
      return {
        Buckets: items.map((Name) => ({ Name, BucketRegion: buckets.get(Name)!.region ?? 'us-east-1' })),
        ...(next ? { ContinuationToken: next } : {}),
      };
    });
    this.mock.on(GetBucketEncryptionCommand).callsFake(async (input: { Bucket: string }, getClient: GetClient) => {
      const bucket = (await this.bucketsFor(getClient)).get(input.Bucket);
      if (!bucket) throw s3Error('NoSuchBucket');
      if (!bucket.rule) throw s3Error('ServerSideEncryptionConfigurationNotFoundError');
      return { ServerSideEncryptionConfiguration: { Rules: [structuredClone(bucket.rule)] } };
    });
    this.mock.on(GetBucketTaggingCommand).callsFake(async (input: { Bucket: string }, getClient: GetClient) => {
      const bucket = (await this.bucketsFor(getClient)).get(input.Bucket);
      if (!bucket) throw s3Error('NoSuchBucket');
      if (!bucket.tags) throw s3Error('NoSuchTagSet');
      return { TagSet: Object.entries(bucket.tags).map(([Key, Value]) => ({ Key, Value })) };
    });
    const find = (name: string): FakeBucket => {
      const bucket = this.buckets.get(name);
      if (!bucket) throw s3Error('NoSuchBucket');
      return bucket;
    };
    this.mock.on(GetBucketPolicyCommand).callsFake((input: { Bucket: string }) => {
      const bucket = find(input.Bucket);
      if (bucket.policy === undefined) throw s3Error('NoSuchBucketPolicy');
      return { Policy: bucket.policy };
    });
    this.mock.on(PutBucketPolicyCommand).callsFake((input: { Bucket: string; Policy: string }) => {
      const bucket = find(input.Bucket);
      // S3 refuses text that is not a JSON policy, and a policy over its size limit
      try {
        JSON.parse(input.Policy);
      } catch {
        throw s3Error('MalformedPolicy', 400);
      }
      if (new TextEncoder().encode(input.Policy).length > POLICY_LIMIT_BYTES) throw s3Error('MalformedPolicy', 400);
      bucket.policy = input.Policy;
      this.world.writes.push(`PutBucketPolicy ${input.Bucket}`);
      return {};
    });
    this.mock.on(GetBucketWebsiteCommand).callsFake((input: { Bucket: string }) => {
      if (!find(input.Bucket).website) throw s3Error('NoSuchWebsiteConfiguration');
      return { IndexDocument: { Suffix: 'index.html' } };
    });
    this.mock.on(GetPublicAccessBlockCommand).callsFake((input: { Bucket: string }) => {
      const bucket = find(input.Bucket);
      if (!bucket.publicAccessBlock) throw s3Error('NoSuchPublicAccessBlockConfiguration');
      return { PublicAccessBlockConfiguration: structuredClone(bucket.publicAccessBlock) };
    });
    this.mock
      .on(PutPublicAccessBlockCommand)
      .callsFake((input: { Bucket: string; PublicAccessBlockConfiguration: PublicAccessBlockConfiguration }) => {
        const bucket = find(input.Bucket);
        // PutPublicAccessBlock replaces the whole configuration: a setting left out is false
        const c = input.PublicAccessBlockConfiguration;
        bucket.publicAccessBlock = {
          BlockPublicAcls: c.BlockPublicAcls === true,
          IgnorePublicAcls: c.IgnorePublicAcls === true,
          BlockPublicPolicy: c.BlockPublicPolicy === true,
          RestrictPublicBuckets: c.RestrictPublicBuckets === true,
        };
        this.world.writes.push(`PutPublicAccessBlock ${input.Bucket}`);
        return {};
      });
    this.mock
      .on(PutBucketEncryptionCommand)
      .callsFake(
        async (
          input: { Bucket: string; ServerSideEncryptionConfiguration: { Rules: ServerSideEncryptionRule[] } },
          getClient: GetClient,
        ) => {
          const account = await this.world.accountOf(getClient);
          const bucket = this.bucketsOf(account).get(input.Bucket);
          if (!bucket) throw s3Error('NoSuchBucket');
          bucket.rule = structuredClone(input.ServerSideEncryptionConfiguration.Rules[0]);
          this.world.writes.push(`PutBucketEncryption ${input.Bucket}`);
          this.world.accountWrites.push({ account, write: `PutBucketEncryption ${input.Bucket}` });
          return {};
        },
      );
  }
}
