import {
  GetBucketEncryptionCommand,
  GetBucketLocationCommand,
  GetBucketTaggingCommand,
  ListBucketsCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { bucketRef } from '../../detectors/s3-resources';
import { createAwsClients } from '../../core/aws';
import type { S3EncryptionPolicy } from '../../detectors/s3-default-encryption';
import { evaluateS3Encryption, s3DefaultEncryption, type S3EncryptionState } from '../../detectors/s3-default-encryption';
import { parseEvent } from '../../core/events';
import { ARTIFACTS_KEY, fixture, fixtureEvent } from '../helpers';

const kms = (extra: Partial<S3EncryptionPolicy> = {}): S3EncryptionPolicy => ({ algorithm: 'aws:kms', risk: 'low', ...extra });
const SSE_S3: S3EncryptionState = { algorithm: 'AES256', bucketKeyEnabled: false };

function awsError(name: string): S3ServiceException {
  return new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: 404 }, message: name });
}

describe('s3-default-encryption evaluate', () => {
  it('accepts SSE-S3 when the policy asks for SSE-S3', () => {
    expect(evaluateS3Encryption(SSE_S3, { algorithm: 'AES256', risk: 'low' })).toEqual({ status: 'compliant' });
  });

  it('flags SSE-S3 when the policy asks for SSE-KMS', () => {
    expect(evaluateS3Encryption(SSE_S3, kms({ kmsKeyId: ARTIFACTS_KEY }))).toEqual({
      status: 'violation',
      observed: { algorithm: 'AES256', bucketKeyEnabled: false },
      desired: { algorithm: 'aws:kms', kmsKeyId: ARTIFACTS_KEY },
      reason: 'bucket has default encryption AES256, policy requires aws:kms',
    });
  });

  it('flags a bucket with no default encryption at all', () => {
    const result = evaluateS3Encryption({ algorithm: null, bucketKeyEnabled: false }, { algorithm: 'AES256', risk: 'low' });

    expect(result).toMatchObject({ status: 'violation', reason: 'bucket has no default encryption, policy requires AES256' });
  });

  it('accepts a stronger algorithm than the policy asks: DSSE-KMS for SSE-KMS, SSE-KMS and DSSE-KMS for SSE-S3', () => {
    const dsse = { algorithm: 'aws:kms:dsse', kmsKeyId: ARTIFACTS_KEY, bucketKeyEnabled: false };
    const sseKms = { algorithm: 'aws:kms', kmsKeyId: ARTIFACTS_KEY, bucketKeyEnabled: true };

    expect(evaluateS3Encryption(dsse, kms())).toEqual({ status: 'compliant' });
    expect(evaluateS3Encryption(dsse, kms({ kmsKeyId: ARTIFACTS_KEY }))).toEqual({ status: 'compliant' });
    expect(evaluateS3Encryption(sseKms, { algorithm: 'AES256', risk: 'low' })).toEqual({ status: 'compliant' });
    expect(evaluateS3Encryption(dsse, { algorithm: 'AES256', risk: 'low' })).toEqual({ status: 'compliant' });
  });

  it('flags a weaker algorithm than the policy asks', () => {
    expect(
      evaluateS3Encryption({ algorithm: 'aws:kms', kmsKeyId: ARTIFACTS_KEY, bucketKeyEnabled: false }, kms({ algorithm: 'aws:kms:dsse' })),
    ).toMatchObject({
      status: 'violation',
      reason: 'bucket has default encryption aws:kms, policy requires aws:kms:dsse',
    });
  });

  it('still holds a stronger algorithm to the policy key: DSSE-KMS on another key is a violation', () => {
    const other = 'arn:aws:kms:us-east-1:111122223333:key/ffffffff-1111-4222-8333-444444444444';

    expect(
      evaluateS3Encryption({ algorithm: 'aws:kms:dsse', kmsKeyId: other, bucketKeyEnabled: false }, kms({ kmsKeyId: ARTIFACTS_KEY })),
    ).toMatchObject({
      status: 'violation',
      reason: `bucket uses KMS key ${other}, policy requires ${ARTIFACTS_KEY}`,
    });
  });

  it('does not hold DSSE-KMS to a bucket-key requirement (S3 Bucket Keys do not exist for DSSE-KMS)', () => {
    const dsse = { algorithm: 'aws:kms:dsse', kmsKeyId: ARTIFACTS_KEY, bucketKeyEnabled: false };

    expect(evaluateS3Encryption(dsse, kms({ kmsKeyId: ARTIFACTS_KEY, bucketKeyEnabled: true }))).toEqual({ status: 'compliant' });
  });

  it('with exact: true, asks for the algorithm itself, stronger or not', () => {
    const dsse = { algorithm: 'aws:kms:dsse', kmsKeyId: ARTIFACTS_KEY, bucketKeyEnabled: false };

    expect(evaluateS3Encryption(dsse, kms({ exact: true }))).toMatchObject({
      status: 'violation',
      reason: 'bucket has default encryption aws:kms:dsse, policy requires exactly aws:kms',
    });
    expect(
      evaluateS3Encryption({ algorithm: 'aws:kms', bucketKeyEnabled: false }, { algorithm: 'AES256', exact: true, risk: 'low' }).status,
    ).toBe('violation');
    expect(evaluateS3Encryption(SSE_S3, { algorithm: 'AES256', exact: true, risk: 'low' }).status).toBe('compliant');
  });

  it('accepts any KMS key when the policy names none', () => {
    expect(evaluateS3Encryption({ algorithm: 'aws:kms', bucketKeyEnabled: false }, kms())).toEqual({ status: 'compliant' });
  });

  it('flags the AWS managed key when the policy names a key', () => {
    expect(evaluateS3Encryption({ algorithm: 'aws:kms', bucketKeyEnabled: true }, kms({ kmsKeyId: ARTIFACTS_KEY }))).toMatchObject({
      status: 'violation',
      reason: `bucket uses the AWS managed key aws/s3, policy requires ${ARTIFACTS_KEY}`,
    });
  });

  it('accepts the policy key given as a key id when the bucket names its ARN', () => {
    const state = { algorithm: 'aws:kms', kmsKeyId: ARTIFACTS_KEY, bucketKeyEnabled: true };

    expect(evaluateS3Encryption(state, kms({ kmsKeyId: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d' }))).toEqual({ status: 'compliant' });
  });

  it('flags another key of the same kind', () => {
    const state = { algorithm: 'aws:kms', kmsKeyId: 'alias/rampart-reports', bucketKeyEnabled: true };

    expect(evaluateS3Encryption(state, kms({ kmsKeyId: 'alias/rampart' })).status).toBe('violation');
  });

  it('says unknown, not a guess, when an alias must be compared with a key ARN', () => {
    const state = { algorithm: 'aws:kms', kmsKeyId: ARTIFACTS_KEY, bucketKeyEnabled: true };

    expect(evaluateS3Encryption(state, kms({ kmsKeyId: 'alias/rampart' }))).toEqual({
      status: 'unknown',
      reason: `whether ${ARTIFACTS_KEY} and alias/rampart name the same KMS key takes a KMS lookup`,
    });
  });

  it('flags a disabled bucket key when the policy enables it, and the reverse', () => {
    const off = { algorithm: 'aws:kms', kmsKeyId: ARTIFACTS_KEY, bucketKeyEnabled: false };
    const on = { ...off, bucketKeyEnabled: true };

    expect(evaluateS3Encryption(off, kms({ kmsKeyId: ARTIFACTS_KEY, bucketKeyEnabled: true }))).toMatchObject({
      status: 'violation',
      reason: 'S3 Bucket Key is disabled, policy requires it enabled',
    });
    expect(evaluateS3Encryption(on, kms({ bucketKeyEnabled: false })).status).toBe('violation');
    expect(evaluateS3Encryption(on, kms()).status).toBe('compliant');
  });
});

describe('s3-default-encryption from events', () => {
  const { resourcesFrom, stateFrom } = s3DefaultEncryption;

  it('reads SSE-KMS with a bucket key from PutBucketEncryption (Rule as an object)', () => {
    const event = fixtureEvent('s3-PutBucketEncryption.kms-bucketkey-constructed.json');
    const [ref] = resourcesFrom(event);

    expect(ref).toEqual({
      type: 'AWS::S3::Bucket',
      arn: 'arn:aws:s3:::rampart-demo-artifacts',
      bucket: 'rampart-demo-artifacts',
      region: 'us-east-1',
      account: '111122223333',
    });
    expect(stateFrom(event, ref!)).toEqual({
      status: 'known',
      state: { algorithm: 'aws:kms', kmsKeyId: ARTIFACTS_KEY, bucketKeyEnabled: true },
    });
  });

  it('reads PutBucketEncryption whose Rule is a list', () => {
    const event = fixtureEvent('s3-PutBucketEncryption.rule-list-constructed.json');

    expect(stateFrom(event, resourcesFrom(event)[0]!)).toEqual({
      status: 'known',
      state: { algorithm: 'aws:kms', kmsKeyId: 'alias/rampart-reports', bucketKeyEnabled: true },
    });
  });

  it('reads SSE-S3 from PutBucketEncryption', () => {
    const event = fixtureEvent('s3-PutBucketEncryption.aes256-constructed.json');

    expect(stateFrom(event, resourcesFrom(event)[0]!)).toEqual({ status: 'known', state: SSE_S3 });
  });

  it('knows DeleteBucketEncryption falls back to SSE-S3', () => {
    const event = fixtureEvent('s3-DeleteBucketEncryption-constructed.json');

    expect(stateFrom(event, resourcesFrom(event)[0]!)).toEqual({ status: 'known', state: SSE_S3 });
  });

  it('knows a new bucket starts with SSE-S3, in its own region', () => {
    const event = fixtureEvent('s3-CreateBucket.eu-west-1-constructed.json');
    const [ref] = resourcesFrom(event);

    expect(ref).toMatchObject({ bucket: 'rampart-demo-eu-media', region: 'eu-west-1' });
    expect(stateFrom(event, ref!)).toEqual({ status: 'known', state: SSE_S3 });
  });

  it('reads the Config item supplementary configuration and its tags', () => {
    const event = fixtureEvent('config-ConfigurationItemChangeNotification.s3-aes256-constructed.json');
    const [ref] = resourcesFrom(event);

    expect(ref?.arn).toBe('arn:aws:s3:::rampart-demo-uploads');
    expect(stateFrom(event, ref!)).toEqual({ status: 'known', state: SSE_S3, tags: {} });
  });

  it('says gone for a deleted bucket and unknown for an oversized notification', () => {
    const deleted = fixtureEvent('config-ConfigurationItemChangeNotification.s3-deleted-constructed.json');
    const oversized = fixtureEvent('config-OversizedConfigurationItemChangeNotification.s3-adapted.json');

    expect(stateFrom(deleted, resourcesFrom(deleted)[0]!).status).toBe('gone');
    expect(resourcesFrom(oversized)[0]?.arn).toBe('arn:aws:s3:::rampart-demo-archive');
    expect(stateFrom(oversized, resourcesFrom(oversized)[0]!).status).toBe('unknown');
  });

  it('touches no bucket when the record has an empty bucketName (real S3 docs sample)', () => {
    const log = fixture<{ Records: unknown[] }>('s3-CloudTrailLogFile.docs-example-real.json');

    expect(resourcesFrom(parseEvent(log.Records[1]))).toEqual([]);
  });
});

describe('s3-default-encryption readState and list', () => {
  const s3 = mockClient(S3Client);
  const clients = createAwsClients({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  beforeEach(() => s3.reset());

  it('reads the first rule in the bucket region, with the expected owner, and the tags', async () => {
    s3.on(GetBucketEncryptionCommand).resolves({
      ServerSideEncryptionConfiguration: {
        Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: ARTIFACTS_KEY }, BucketKeyEnabled: true }],
      },
    });
    s3.on(GetBucketTaggingCommand).resolves({ TagSet: [{ Key: 'rampart:exempt', Value: 'true' }] });

    const observation = await s3DefaultEncryption.readState(bucketRef('b1', 'eu-west-1', '111122223333'), clients);

    expect(observation).toEqual({
      status: 'known',
      state: { algorithm: 'aws:kms', kmsKeyId: ARTIFACTS_KEY, bucketKeyEnabled: true },
      tags: { 'rampart:exempt': 'true' },
    });
    expect(s3).toHaveReceivedCommandWith(GetBucketEncryptionCommand, { Bucket: 'b1', ExpectedBucketOwner: '111122223333' });
    expect(await s3.call(0).thisValue.config.region()).toBe('eu-west-1');
  });

  it('says gone on NoSuchBucket', async () => {
    s3.on(GetBucketEncryptionCommand).rejects(awsError('NoSuchBucket'));

    expect(await s3DefaultEncryption.readState(bucketRef('gone-bucket', 'us-east-1'), clients)).toEqual({
      status: 'gone',
      reason: 'bucket gone-bucket does not exist',
    });
  });

  it('reads "no default encryption" and no tags from the not-found errors', async () => {
    s3.on(GetBucketEncryptionCommand).rejects(awsError('ServerSideEncryptionConfigurationNotFoundError'));
    s3.on(GetBucketTaggingCommand).rejects(awsError('NoSuchTagSet'));

    expect(await s3DefaultEncryption.readState(bucketRef('old', 'us-east-1'), clients)).toEqual({
      status: 'known',
      state: { algorithm: null, bucketKeyEnabled: false },
      tags: {},
    });
  });

  it('sends both reads of a bucket at once: one round trip per resource', async () => {
    const started: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    s3.on(GetBucketEncryptionCommand).callsFake(async () => {
      started.push('encryption');
      await held;
      return { ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } };
    });
    s3.on(GetBucketTaggingCommand).callsFake(async () => {
      started.push('tagging');
      return { TagSet: [] };
    });

    const reading = s3DefaultEncryption.readState(bucketRef('b', 'us-east-1'), clients);
    await new Promise((resolve) => setImmediate(resolve));
    // the tags are asked for while the encryption answer is still out
    expect(started.sort()).toEqual(['encryption', 'tagging']);
    release();
    expect(await reading).toMatchObject({ status: 'known', state: { algorithm: 'AES256' } });
  });

  it('says gone when the bucket went between the two reads (the tag read fails first)', async () => {
    s3.on(GetBucketEncryptionCommand).rejects(awsError('NoSuchBucket'));
    s3.on(GetBucketTaggingCommand).rejects(awsError('NoSuchBucket'));

    expect(await s3DefaultEncryption.readState(bucketRef('gone', 'us-east-1'), clients)).toMatchObject({ status: 'gone' });
  });

  it('lets AccessDenied through to the caller', async () => {
    s3.on(GetBucketEncryptionCommand).rejects(awsError('AccessDenied'));

    await expect(s3DefaultEncryption.readState(bucketRef('b', 'us-east-1'), clients)).rejects.toThrow('AccessDenied');
  });

  it('lists buckets over every page, with their regions', async () => {
    s3.on(ListBucketsCommand)
      .resolvesOnce({ Buckets: [{ Name: 'a', BucketRegion: 'us-east-1' }, { Name: 'b' }], ContinuationToken: 'next' })
      .resolvesOnce({ Buckets: [{ Name: 'c', BucketRegion: 'ap-southeast-2' }] });
    s3.on(GetBucketLocationCommand, { Bucket: 'b' }).resolves({ LocationConstraint: 'eu-west-1' });

    const refs = [];
    for await (const ref of s3DefaultEncryption.list(clients)) refs.push(ref);

    expect(refs.map((r) => [r.arn, r.region])).toEqual([
      ['arn:aws:s3:::a', 'us-east-1'],
      ['arn:aws:s3:::b', 'eu-west-1'],
      ['arn:aws:s3:::c', 'ap-southeast-2'],
    ]);
    expect(s3).toHaveReceivedCommandWith(ListBucketsCommand, { ContinuationToken: 'next' });
  });
});
