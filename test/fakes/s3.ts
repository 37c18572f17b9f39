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

type GetClient = () => { config: { credentials: unknown } };

/**
 * S3 buckets: default encryption and tags, behind a mocked S3Client. Each account has its own
 * buckets (`bucketsOf`), told apart by the credentials the client signs with; `buckets` are the
 * home account's.
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
