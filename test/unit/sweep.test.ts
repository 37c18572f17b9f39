import { InMemoryFindingsStore } from '../../core/stores';
import { GetBucketEncryptionCommand, ListBucketsCommand } from '@aws-sdk/client-s3';
import { GetStageCommand } from '@aws-sdk/client-api-gateway';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { createAwsClients } from '../../core/aws';
import { InMemoryFixLedger } from '../../core/fix-budget';
import { resourceKey } from '../../core/resource-key';
import { InMemoryLastKnownGood } from '../../core/last-known-good';
import { makeDetectorHandler } from '../../handlers/detector';
import { sweep, type SweepItem } from '../../detectors/sweep';
import { makeSweepHandler } from '../../handlers/sweep';
import type { GuardDeps } from '../../handlers/deps';
import { FakeAws, inMemoryDeps, s3Error, uniqueExecutionNames } from '../fakes';
import { ARTIFACTS_KEY, LEGACY_ACL, RAMPART_GUARD_ACL, fixture, policy } from '../helpers';
import { remediate } from '../../remediators/remediate';
import { ALL_CONTROLS, DETECTORS } from '../../controls';

const POLICY = policy({
  regions: ['us-east-1'],
  controls: {
    's3-default-encryption': { algorithm: 'aws:kms', kmsKeyId: ARTIFACTS_KEY },
    'apigateway-waf': { defaultWebAclArn: RAMPART_GUARD_ACL },
    'apigateway-throttling': { rateLimit: 1000, burstLimit: 500, risk: 'low' },
  },
});
const KMS_RULE = { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' as const, KMSMasterKeyID: ARTIFACTS_KEY } };
const SSE_S3 = { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' as const } };
const stage = (api: string, name: string) => `arn:aws:apigateway:us-east-1::/restapis/${api}/stages/${name}`;

async function collect(items: AsyncIterable<SweepItem>): Promise<SweepItem[]> {
  const out: SweepItem[] = [];
  for await (const item of items) out.push(item);
  return out;
}
const violations = (items: SweepItem[]) =>
  items
    .flatMap((i) => (i.kind === 'judged' && i.judgement.outcome === 'violation' ? [`${i.judgement.control} ${i.judgement.ref.arn}`] : []))
    .sort();

describe('the sweep', () => {
  let aws: FakeAws;
  const clients = () =>
    createAwsClients({ region: 'us-east-1', regions: ['us-east-1'], credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });

  beforeEach(() => {
    aws = new FakeAws();
    aws.buckets.set('a-good', { region: 'us-east-1', rule: KMS_RULE });
    aws.buckets.set('b-drifted', { region: 'eu-west-1', rule: SSE_S3 });
    aws.buckets.set('c-good-eu', { region: 'eu-west-1', rule: KMS_RULE });
    aws.buckets.set('d-drifted', { region: 'ap-southeast-2', rule: SSE_S3 });
    aws.buckets.set('e-good', { region: 'us-east-1', rule: KMS_RULE });
    aws.stages.set(stage('api1', 'prod'), {
      methodSettings: { '*/*': { throttlingRateLimit: 100, throttlingBurstLimit: 50 } },
      webAclArn: RAMPART_GUARD_ACL,
    });
    aws.stages.set(stage('api2', 'dev'), {
      methodSettings: { '*/*': { throttlingRateLimit: 5000, throttlingBurstLimit: 50 } },
      webAclArn: LEGACY_ACL,
    });
    aws.stages.set(stage('api3', 'v1'), {
      methodSettings: { '*/*': { throttlingRateLimit: 10, throttlingBurstLimit: 5 } },
      webAclArn: RAMPART_GUARD_ACL,
    });
    aws.usagePlans.set('up1', { throttle: { rateLimit: 10, burstLimit: 5 } });
    aws.usagePlans.set('up2', {});
    aws.usagePlans.set('up3', { throttle: { rateLimit: 20, burstLimit: 10 } });
    aws.webAcls.add(RAMPART_GUARD_ACL);
  });
  afterEach(() => aws.restore());

  it('finds exactly the seeded violations, over every page and every bucket region', async () => {
    const items = await collect(sweep(POLICY, clients(), { detectors: DETECTORS, sweepId: 'sweep-1', concurrency: 4 }));

    expect(violations(items)).toEqual([
      `apigateway-throttling ${stage('api2', 'dev')}`,
      'apigateway-throttling arn:aws:apigateway:us-east-1::/usageplans/up2',
      `apigateway-waf ${stage('api2', 'dev')}`,
      's3-default-encryption arn:aws:s3:::b-drifted',
      's3-default-encryption arn:aws:s3:::d-drifted',
    ]);
    expect(items).toHaveLength(5 + 3 + 3 + 3);
    expect(aws.s3).toHaveReceivedCommandTimes(ListBucketsCommand, 3);
    // each bucket is read in its own region
    const regions = await Promise.all(
      aws.s3.commandCalls(GetBucketEncryptionCommand).map(async (c) => [c.args[0].input.Bucket, await c.thisValue.config.region()]),
    );
    expect(Object.fromEntries(regions)).toMatchObject({ 'b-drifted': 'eu-west-1', 'd-drifted': 'ap-southeast-2', 'a-good': 'us-east-1' });
  });

  it('reports a resource it cannot read (AccessDenied, throttled past retries) and sweeps the rest', async () => {
    aws.s3.on(GetBucketEncryptionCommand, { Bucket: 'a-good' }).rejects(s3Error('AccessDenied', 403));
    aws.apiGateway
      .on(GetStageCommand, { restApiId: 'api3' })
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));

    const items = await collect(sweep(POLICY, clients(), { detectors: DETECTORS, sweepId: 'sweep-1' }));

    expect(items.filter((i) => i.kind === 'error')).toEqual([
      { kind: 'error', control: 's3-default-encryption', resourceArn: 'arn:aws:s3:::a-good', message: 'AccessDenied' },
      { kind: 'error', control: 'apigateway-throttling', resourceArn: stage('api3', 'v1'), message: 'Rate exceeded' },
    ]);
    expect(violations(items)).toHaveLength(5);
  });

  it('finds nothing on a second sweep after the fixes', async () => {
    // buckets in three regions: the policy names the key by alias, an alias ARN per bucket region
    const byAlias = policy({
      ...POLICY,
      controls: { ...POLICY.controls, 's3-default-encryption': { algorithm: 'aws:kms', kmsKeyId: 'alias/rampart' } },
    });
    for (const b of ['a-good', 'c-good-eu', 'e-good'])
      aws.buckets.get(b)!.rule = { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'alias/rampart' } };
    const ctx = {
      controls: ALL_CONTROLS,
      policy: byAlias,
      clients: clients(),
      lastKnownGood: new InMemoryLastKnownGood(),
      fixes: new InMemoryFixLedger(),
      clock: () => new Date(),
      verifyAttempts: 1,
    };
    const outcomes: string[] = [];
    for (const item of await collect(sweep(byAlias, ctx.clients, { detectors: DETECTORS, sweepId: 'sweep-1', account: '111122223333' }))) {
      if (item.kind === 'judged' && item.judgement.outcome === 'violation')
        outcomes.push((await remediate(item.judgement.finding, ctx)).outcome);
    }

    expect(outcomes).toEqual(['remediated', 'remediated', 'remediated', 'remediated', 'remediated']);
    expect(aws.buckets.get('d-drifted')?.rule?.ApplyServerSideEncryptionByDefault?.KMSMasterKeyID).toBe(
      'arn:aws:kms:ap-southeast-2:111122223333:alias/rampart',
    );
    expect(violations(await collect(sweep(byAlias, clients(), { detectors: DETECTORS, sweepId: 'sweep-2' })))).toEqual([]);
  });

  it('resumes after the last resource a stopped sweep took', async () => {
    const listed: string[] = [];
    let taken = 0;
    const first = await collect(
      sweep(POLICY, clients(), {
        detectors: DETECTORS,
        sweepId: 's',
        controls: ['s3-default-encryption'],
        concurrency: 1,
        shouldStop: () => taken >= 2,
        onListed: (_c, arn) => (listed.push(arn), taken++),
      }),
    );
    const rest = await collect(
      sweep(POLICY, clients(), {
        detectors: DETECTORS,
        sweepId: 's',
        controls: ['s3-default-encryption'],
        startAfter: { 's3-default-encryption': listed.at(-1)! },
      }),
    );

    expect(first).toHaveLength(2);
    expect(
      [...first, ...rest].map((i) => (i.kind === 'judged' ? i.judgement.ref.arn : i.kind === 'error' ? i.resourceArn : i.kind)).sort(),
    ).toEqual(['a-good', 'b-drifted', 'c-good-eu', 'd-drifted', 'e-good'].map((b) => `arn:aws:s3:::${b}`));
  });
});

describe('the sweep Lambda and the event path together', () => {
  const sfn = mockClient(SFNClient);
  let aws: FakeAws;
  let deps: GuardDeps;
  let names: Set<string>;

  beforeEach(() => {
    aws = new FakeAws();
    aws.buckets.set('rampart-demo-logs', { region: 'us-east-1', rule: SSE_S3 });
    aws.buckets.set('rampart-good', { region: 'us-east-1', rule: KMS_RULE });
    sfn.reset();
    names = uniqueExecutionNames(sfn);
    deps = inMemoryDeps(POLICY, () => new Date('2024-06-03T16:00:00Z'));
  });
  afterEach(() => aws.restore());
  afterAll(() => sfn.restore());

  it('gives one finding and one workflow when an event and a sweep see the same violation', async () => {
    await makeDetectorHandler(() => deps)(fixture('s3-DeleteBucketEncryption-constructed.json') as never);
    const page = await makeSweepHandler(() => deps)({ control: 's3-default-encryption', sweepId: 'sweep-1' });

    expect(page).toMatchObject({
      control: 's3-default-encryption',
      sweepId: 'sweep-1',
      resources: 2,
      findings: 1,
      started: 0,
      recovered: 0,
      stale: 0,
      errors: 0,
    });
    expect(page.startAfter).toBeUndefined();
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    expect((deps.findings as InMemoryFindingsStore).records.size).toBe(1);
    expect(
      await deps.lastKnownGood.get(resourceKey('s3-default-encryption', { arn: 'arn:aws:s3:::rampart-good', account: '111122223333' })),
    ).toMatchObject({ algorithm: 'aws:kms' });
  });

  it('recovers an open finding whose workflow failed even when no event or violation comes again, and counts the stale ones', async () => {
    await makeDetectorHandler(() => deps)(fixture('s3-DeleteBucketEncryption-constructed.json') as never);
    const [record] = [...(deps.findings as InMemoryFindingsStore).records.values()];
    names.clear();
    sfn.on(DescribeExecutionCommand).resolves({ status: 'FAILED' });
    aws.buckets.get('rampart-demo-logs')!.rule = KMS_RULE; // fixed by hand meanwhile: the sweep sees no violation
    const later = new Date(Date.parse('2024-06-03T16:00:00Z') + (POLICY.approvals.timeoutHours + 2) * 3_600_000);
    deps.clock = () => later;

    const page = await makeSweepHandler(() => deps)({ control: 's3-default-encryption', sweepId: 'sweep-2' });

    expect(page).toMatchObject({ findings: 0, recovered: 1, stale: 1, errors: 0 });
    expect([...names]).toEqual([`${record!.id}-${later.getTime()}`]);
  });

  it('keeps sweeping when a workflow cannot be started, and says so', async () => {
    sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailable' }));

    const page = await makeSweepHandler(() => deps)({ control: 's3-default-encryption', sweepId: 'sweep-1' });

    expect(page).toMatchObject({ resources: 2, findings: 1, started: 0, errors: 1 });
    expect(
      await deps.lastKnownGood.get(resourceKey('s3-default-encryption', { arn: 'arn:aws:s3:::rampart-good', account: '111122223333' })),
    ).toMatchObject({ algorithm: 'aws:kms' });
  });

  it('stops a minute before the Lambda times out and says where to resume', async () => {
    let remaining = 120_000;
    const context = { getRemainingTimeInMillis: () => (remaining -= 40_000) };

    const page = await makeSweepHandler(() => deps)({ control: 's3-default-encryption', sweepId: 'sweep-1' }, context);

    expect(page.startAfter).toMatch(/^arn:aws:s3:::/);
    expect(page.resources).toBeLessThan(2);
  });
});

describe('a sweep whose listing fails', () => {
  it('says so for the control, goes on with the others, and fails the Lambda page', async () => {
    const aws = new FakeAws();
    aws.buckets.set('a', { region: 'us-east-1', rule: KMS_RULE });
    aws.s3.on(ListBucketsCommand).rejects(s3Error('AccessDenied', 403));
    aws.stages.set(stage('api1', 'prod'), {
      methodSettings: { '*/*': { throttlingRateLimit: 10, throttlingBurstLimit: 5 } },
      webAclArn: RAMPART_GUARD_ACL,
    });
    const clients = createAwsClients({ region: 'us-east-1', regions: ['us-east-1'] });
    try {
      const items = await collect(sweep(POLICY, clients, { detectors: DETECTORS, sweepId: 's' }));
      const deps = inMemoryDeps(POLICY, () => new Date());

      expect(items.filter((i) => i.kind === 'list-error')).toEqual([
        { kind: 'list-error', control: 's3-default-encryption', message: 'AccessDenied' },
      ]);
      expect(items.filter((i) => i.kind === 'judged')).toHaveLength(2);
      await expect(makeSweepHandler(() => deps)({ control: 's3-default-encryption' })).rejects.toThrow(
        'cannot list s3-default-encryption resources: AccessDenied',
      );
    } finally {
      aws.restore();
    }
  });
});
