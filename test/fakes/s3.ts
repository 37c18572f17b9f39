import {
  GetBucketEncryptionCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketWebsiteCommand,
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutBucketEncryptionCommand,
  PutBucketPolicyCommand,
  PutPublicAccessBlockCommand,
  S3Client,
  S3ServiceException,
  type PublicAccessBlockConfiguration,
  type ServerSideEncryptionRule,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
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

/** An object of a log bucket: its bytes; an error GetObject answers with; or bytes whose body breaks after `failAfter` of them. */
export type FakeObject = Buffer | { error: Error } | { bytes: Buffer; failAfter: number };

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
    this.mockObjects();
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

  /** Objects by bucket, then key (the log buckets `replay s3://` reads). A bucket not here is `NoSuchBucket`. */
  readonly objects = new Map<string, Map<string, FakeObject>>();
  /** GetObject bodies being read now, and the most there ever were at once. */
  readsInFlight = 0;
  maxReadsInFlight = 0;

  putObject(bucket: string, key: string, object: FakeObject): void {
    let keys = this.objects.get(bucket);
    if (!keys) this.objects.set(bucket, (keys = new Map()));
    keys.set(key, object);
  }

  /**
   * ListObjectsV2 and GetObject as S3 answers them (S3 API Reference): keys in UTF-8 binary
   * order; with a Delimiter, the keys below the next delimiter rolled up into CommonPrefixes;
   * MaxKeys (here `world.pageSize`) counting keys and common prefixes alike; IsTruncated and
   * NextContinuationToken; `NoSuchBucket`, `NoSuchKey` (404).
   */
  private mockObjects(): void {
    this.mock
      .on(ListObjectsV2Command)
      .callsFake((input: { Bucket: string; Prefix?: string; Delimiter?: string; ContinuationToken?: string }) => {
        const keys = this.objects.get(input.Bucket);
        if (!keys) throw s3Error('NoSuchBucket');
        const prefix = input.Prefix ?? '';
        const entries: Array<{ key: string } | { prefix: string }> = [];
        const rolled = new Set<string>();
        for (const key of [...keys.keys()]
          .filter((k) => k.startsWith(prefix))
          .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))) {
          const cut = input.Delimiter ? key.indexOf(input.Delimiter, prefix.length) : -1;
          if (cut < 0) entries.push({ key });
          else {
            const common = key.slice(0, cut + input.Delimiter!.length);
            if (!rolled.has(common)) entries.push({ prefix: common });
            rolled.add(common);
          }
        }
        const { items, next } = this.world.page(entries, input.ContinuationToken);
        const contents = items.flatMap((e) => {
          if (!('key' in e)) return [];
          const object = keys.get(e.key)!;
          const size = Buffer.isBuffer(object) ? object.length : 'bytes' in object ? object.bytes.length : 0;
          return [{ Key: e.key, Size: size, LastModified: new Date('2026-01-01T00:00:00Z'), StorageClass: 'STANDARD' as const }];
        });
        const prefixes = items.flatMap((e) => ('prefix' in e ? [{ Prefix: e.prefix }] : []));
        return {
          Name: input.Bucket,
          Prefix: prefix,
          ...(input.Delimiter ? { Delimiter: input.Delimiter } : {}),
          MaxKeys: this.world.pageSize,
          KeyCount: items.length,
          IsTruncated: next !== undefined,
          ...(contents.length > 0 ? { Contents: contents } : {}),
          ...(prefixes.length > 0 ? { CommonPrefixes: prefixes } : {}),
          ...(input.ContinuationToken ? { ContinuationToken: input.ContinuationToken } : {}),
          ...(next ? { NextContinuationToken: next } : {}),
        };
      });
    this.mock.on(GetObjectCommand).callsFake((input: { Bucket: string; Key: string }) => {
      const keys = this.objects.get(input.Bucket);
      if (!keys) throw s3Error('NoSuchBucket');
      const object = keys.get(input.Key);
      if (!object) throw s3Error('NoSuchKey');
      if (!Buffer.isBuffer(object) && 'error' in object) throw object.error;
      const bytes = Buffer.isBuffer(object) ? object : object.bytes;
      const failAfter = Buffer.isBuffer(object) ? undefined : object.failAfter;
      this.readsInFlight++;
      this.maxReadsInFlight = Math.max(this.maxReadsInFlight, this.readsInFlight);
      const chunks = async function* (): AsyncIterable<Buffer> {
        // in 16 KB chunks, a turn of the event loop apart: a body arrives in parts
        for (let at = 0; at < bytes.length; at += 16_384) {
          await new Promise((resolve) => setImmediate(resolve));
          if (failAfter !== undefined && at >= failAfter) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
          yield bytes.subarray(at, Math.min(at + 16_384, failAfter ?? bytes.length));
        }
        if (failAfter !== undefined && failAfter < bytes.length) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      };
      const body = Readable.from(chunks());
      body.once('close', () => this.readsInFlight--);
      return { Body: body as never, ContentLength: bytes.length };
    });
  }
}
