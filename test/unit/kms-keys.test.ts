import { DescribeKeyCommand, NotFoundException } from '@aws-sdk/client-kms';
import { createAwsClients } from '../../core/aws';
import { DETECTORS } from '../../controls';
import { judgeObservation } from '../../detectors/judge';
import { compareKmsKeys } from '../../detectors/kms-keys';
import { observeLive } from '../../detectors/observe';
import { s3DefaultEncryption } from '../../detectors/s3-default-encryption';
import { bucketRef } from '../../detectors/s3-resources';
import { SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { makeDetectorHandler } from '../../handlers/detector';
import { sweep } from '../../detectors/sweep';
import { FakeAws, inMemoryDeps, uniqueExecutionNames } from '../fakes';
import { ARTIFACTS_KEY, fixture, policy } from '../helpers';

const OTHER_KEY = 'arn:aws:kms:us-east-1:111122223333:key/ffffffff-1111-4222-8333-444444444444';
const ALIAS_POLICY = policy({ controls: { 's3-default-encryption': { algorithm: 'aws:kms', kmsKeyId: 'alias/rampart' } } });
const SWEEP = { eventId: 'sweep-1', eventName: 'Sweep', eventSource: 'rampart.sweep' };
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

describe('a KMS alias policy judged online', () => {
  let aws: FakeAws;
  beforeEach(() => {
    aws = new FakeAws();
    aws.aliases.set('alias/rampart', ARTIFACTS_KEY);
  });
  afterEach(() => aws.restore());

  async function judge(bucket: string, clients = createAwsClients({ region: 'us-east-1', credentials })) {
    const ref = bucketRef(bucket, 'us-east-1', '111122223333');
    const observation = await observeLive(s3DefaultEncryption, ref, ALIAS_POLICY, clients);
    return judgeObservation(s3DefaultEncryption, ref, observation, ALIAS_POLICY, SWEEP);
  }

  it('flags a bucket on another customer key as a violation, never unknown', async () => {
    aws.buckets.set('other-key', { rule: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: OTHER_KEY } } });

    const judgement = await judge('other-key');

    expect(judgement.outcome).toBe('violation');
    expect(judgement.outcome === 'violation' && judgement.finding.violation).toBe(
      `bucket uses KMS key ${OTHER_KEY}, policy requires alias/rampart (${ARTIFACTS_KEY} in us-east-1)`,
    );
  });

  it('accepts a bucket on the alias key named by key id', async () => {
    aws.buckets.set('by-id', {
      rule: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: ARTIFACTS_KEY.split('/')[1] } },
    });

    expect((await judge('by-id')).outcome).toBe('compliant');
  });

  it('flags a bucket on another alias that points to another key, and accepts one that points to the same key', async () => {
    aws.aliases.set('arn:aws:kms:us-east-1:111122223333:alias/other', OTHER_KEY);
    aws.aliases.set('arn:aws:kms:us-east-1:111122223333:alias/same', ARTIFACTS_KEY);
    aws.buckets.set('other-alias', {
      rule: {
        ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'arn:aws:kms:us-east-1:111122223333:alias/other' },
      },
    });
    aws.buckets.set('same-alias', {
      rule: {
        ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'arn:aws:kms:us-east-1:111122223333:alias/same' },
      },
    });

    expect((await judge('other-alias')).outcome).toBe('violation');
    expect((await judge('same-alias')).outcome).toBe('compliant');
  });

  it('settles the policy alias once per client set (one cold start), per region', async () => {
    const clients = createAwsClients({ region: 'us-east-1', credentials });
    for (const name of ['a', 'b', 'c'])
      aws.buckets.set(name, { rule: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: OTHER_KEY } } });

    for (const name of ['a', 'b', 'c']) expect((await judge(name, clients)).outcome).toBe('violation');

    expect(aws.kms.commandCalls(DescribeKeyCommand, { KeyId: 'alias/rampart' })).toHaveLength(1);
    // a new cold start asks again: an alias may have been pointed elsewhere meanwhile
    await judge('a');
    expect(aws.kms.commandCalls(DescribeKeyCommand, { KeyId: 'alias/rampart' })).toHaveLength(2);
  });

  it('flags a bucket when the policy alias does not exist in its region (it cannot be on that key)', async () => {
    aws.kms
      .on(DescribeKeyCommand, { KeyId: 'alias/rampart' })
      .rejects(new NotFoundException({ message: 'Alias arn:aws:kms:us-east-1:111122223333:alias/rampart is not found.', $metadata: {} }));
    aws.buckets.set('other-key', { rule: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: OTHER_KEY } } });

    const judgement = await judge('other-key');

    expect(judgement.outcome === 'violation' && judgement.finding.violation).toBe(
      `bucket uses KMS key ${OTHER_KEY}, policy requires alias/rampart (which does not exist in us-east-1)`,
    );
  });

  it('lets an AccessDenied on DescribeKey through (the event is retried), never a guess', async () => {
    aws.kms
      .on(DescribeKeyCommand)
      .rejects(Object.assign(new Error('not authorized to perform kms:DescribeKey'), { name: 'AccessDeniedException' }));
    aws.buckets.set('other-key', { rule: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: OTHER_KEY } } });

    await expect(judge('other-key')).rejects.toThrow('kms:DescribeKey');
  });

  it('on every online path: the detector Lambda opens a finding and the sweep reports a violation', async () => {
    const sfn = mockClient(SFNClient);
    try {
      uniqueExecutionNames(sfn);
      aws.buckets.set('rampart-demo-artifacts', {
        rule: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: OTHER_KEY } },
      });
      const deps = inMemoryDeps(ALIAS_POLICY, () => new Date('2024-05-14T10:03:00Z'));

      const summary = await makeDetectorHandler(() => deps)(fixture('s3-PutBucketEncryption.kms-bucketkey-constructed.json') as never);
      const swept = [];
      for await (const item of sweep(ALIAS_POLICY, deps.clients, { detectors: DETECTORS, sweepId: 'sweep-1' }))
        if (item.kind === 'judged') swept.push(item.judgement.outcome);

      expect(summary.findings).toHaveLength(1);
      expect(swept).toEqual(['violation']);
    } finally {
      sfn.restore();
    }
  });

  it('offline, an alias against a key ARN stays undecidable', () => {
    expect(compareKmsKeys(OTHER_KEY, 'alias/rampart')).toBe('undecidable');
  });
});
