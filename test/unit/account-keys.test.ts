import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createAwsClients } from '../../core/aws';
import { documentClient, DynamoFixLedger, DynamoLastKnownGood } from '../../core/dynamo-stores';
import { parseEvent } from '../../core/events';
import type { Finding } from '../../core/finding';
import { InMemoryFixLedger, type FixLedger } from '../../core/fix-budget';
import { InMemoryLastKnownGood, type LastKnownGoodStore } from '../../core/last-known-good';
import { resourceKey } from '../../core/resource-key';
import { ALL_CONTROLS, DETECTORS } from '../../controls';
import { judgeEvent } from '../../detectors/judge';
import { EventRouter } from '../../detectors/router';
import type { GuardDeps } from '../../handlers/deps';
import { makeDetectorHandler } from '../../handlers/detector';
import { remediate, type RemediationContext } from '../../remediators/remediate';
import { FakeAws, inMemoryDeps } from '../fakes';
import { FakeGuardTable } from '../fakes/guard-table';
import { ARTIFACTS_KEY, RAMPART_GUARD_ACL, fixture, policy } from '../helpers';

/**
 * Many ARNs carry no account (S3 buckets, API Gateway usage plans): the same name in two
 * accounts is two resources, and each keeps its own restore point and its own fix budget.
 */
const A = '111122223333';
const B = '444455556666';
const BUCKET = 'rampart-demo-logs';
const SSE_S3 = { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' as const } };
const CONTROLS = {
  's3-default-encryption': { algorithm: 'aws:kms', kmsKeyId: ARTIFACTS_KEY },
  'apigateway-waf': { defaultWebAclArn: RAMPART_GUARD_ACL },
  'apigateway-throttling': { rateLimit: 1000, burstLimit: 500, risk: 'low' },
} as const;
const POLICY = policy({ controls: CONTROLS, fixBudget: { maxFixes: 1, windowMinutes: 60 } });
/** Budget enough for every fix of a test that is about restore points. */
const ROOMY = policy({ controls: CONTROLS, fixBudget: { maxFixes: 10, windowMinutes: 60 } });
const router = new EventRouter(DETECTORS);

/** A fixture as the same call in another account would record it (the envelope's and CloudTrail's account). */
function inAccount(name: string, account: string): Record<string, unknown> {
  const event = fixture<{ account: string; detail: { recipientAccountId: string } }>(name);
  event.account = account;
  event.detail.recipientAccountId = account;
  return event;
}

function findingIn(name: string, account: string): Finding {
  const [finding] = judgeEvent(parseEvent(inAccount(name, account)), POLICY, router).judgements.flatMap((j) =>
    j.outcome === 'violation' ? [j.finding] : [],
  );
  if (!finding) throw new Error(`${name} in ${account}: no finding`);
  return finding;
}

const STORES: Array<[string, () => { lastKnownGood: LastKnownGoodStore; fixes: FixLedger; table?: FakeGuardTable }]> = [
  ['in memory', () => ({ lastKnownGood: new InMemoryLastKnownGood(), fixes: new InMemoryFixLedger() })],
  [
    'in DynamoDB',
    () => {
      const table = new FakeGuardTable();
      const db = documentClient(new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }));
      return { lastKnownGood: new DynamoLastKnownGood(db, 'guard'), fixes: new DynamoFixLedger(db, 'guard'), table };
    },
  ],
];

describe.each(STORES)('stores keyed by account (%s)', (_name, makeStores) => {
  let aws: FakeAws;
  let stores: ReturnType<typeof makeStores>;
  let now: Date;
  let deps: GuardDeps;
  let ctx: RemediationContext;

  beforeEach(() => {
    aws = new FakeAws();
    stores = makeStores();
    now = new Date('2024-06-03T16:00:00Z');
    deps = { ...inMemoryDeps(POLICY, () => now), lastKnownGood: stores.lastKnownGood, fixes: stores.fixes } as GuardDeps;
    const clients = createAwsClients({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    ctx = {
      controls: ALL_CONTROLS,
      policy: POLICY,
      clients,
      lastKnownGood: stores.lastKnownGood,
      fixes: stores.fixes,
      clock: () => now,
      verifyAttempts: 1,
    };
  });
  afterEach(() => {
    aws.restore();
    stores.table?.restore();
  });

  it('the same bucket name in two accounts has two fix budgets', async () => {
    aws.buckets.set(BUCKET, { rule: SSE_S3 });
    const inA = findingIn('s3-DeleteBucketEncryption-constructed.json', A);
    const inB = findingIn('s3-DeleteBucketEncryption-constructed.json', B);

    const first = await remediate(inA, ctx);
    aws.buckets.get(BUCKET)!.rule = SSE_S3;
    const otherAccount = await remediate(inB, ctx);
    aws.buckets.get(BUCKET)!.rule = SSE_S3;
    const again = await remediate(inA, ctx);

    expect([first.outcome, otherAccount.outcome, again.outcome]).toEqual(['remediated', 'remediated', 'loop-suspected']);
  });

  it('the same bucket name in two accounts keeps two last-known-good values', async () => {
    const handler = makeDetectorHandler(() => deps);
    aws.buckets.set(BUCKET, {
      rule: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: ARTIFACTS_KEY }, BucketKeyEnabled: true },
    });
    expect((await handler(inAccount('s3-DeleteBucketEncryption-constructed.json', A) as never)).compliant).toBe(1);
    now = new Date(now.getTime() + 60_000);
    aws.buckets.get(BUCKET)!.rule = {
      ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: ARTIFACTS_KEY },
      BucketKeyEnabled: false,
    };
    expect((await handler(inAccount('s3-DeleteBucketEncryption-constructed.json', B) as never)).compliant).toBe(1);

    const states = await Promise.all(
      [A, B].map((account) => deps.lastKnownGood.get(resourceKey('s3-default-encryption', { arn: `arn:aws:s3:::${BUCKET}`, account }))),
    );

    expect(states).toEqual([
      { algorithm: 'aws:kms', kmsKeyId: ARTIFACTS_KEY, bucketKeyEnabled: true },
      { algorithm: 'aws:kms', kmsKeyId: ARTIFACTS_KEY, bucketKeyEnabled: false },
    ]);
  });

  it('a usage plan id in two accounts restores each account its own last-known-good throttle', async () => {
    const handler = makeDetectorHandler(() => deps);
    aws.usagePlans.set('u1p2l3', { throttle: { rateLimit: 250, burstLimit: 100 } });
    expect((await handler(inAccount('apigateway-UpdateUsagePlan.throttle-over-constructed.json', A) as never)).compliant).toBe(1);
    now = new Date(now.getTime() + 60_000);
    aws.usagePlans.set('u1p2l3', { throttle: { rateLimit: 400, burstLimit: 200 } });
    expect((await handler(inAccount('apigateway-UpdateUsagePlan.throttle-over-constructed.json', B) as never)).compliant).toBe(1);

    // only the rate is over the policy: each account's fix restores its own last-known-good rate
    const restored: unknown[] = [];
    for (const account of [A, B]) {
      aws.usagePlans.set('u1p2l3', { throttle: { rateLimit: 5000, burstLimit: 100 } });
      expect(
        (await remediate(findingIn('apigateway-UpdateUsagePlan.throttle-over-constructed.json', account), { ...ctx, policy: ROOMY }))
          .outcome,
      ).toBe('remediated');
      restored.push(aws.usagePlans.get('u1p2l3')?.throttle);
    }

    expect(restored).toEqual([
      { rateLimit: 250, burstLimit: 100 },
      { rateLimit: 400, burstLimit: 100 },
    ]);
  });
});

describe('items of the keys before accounts (upgrade)', () => {
  let table: FakeGuardTable;
  const db = documentClient(new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }));
  const key = resourceKey('s3-default-encryption', { arn: `arn:aws:s3:::${BUCKET}`, account: A });
  beforeEach(() => {
    table = new FakeGuardTable();
    // as the guard wrote them before the account was part of the key
    table.items.set(`LKG#s3-default-encryption#arn:aws:s3:::${BUCKET}|STATE`, {
      pk: `LKG#s3-default-encryption#arn:aws:s3:::${BUCKET}`,
      sk: 'STATE',
      state: { algorithm: 'AES256' },
      seenAt: '2024-06-03T15:00:00.000Z',
    });
    table.items.set(`FIXES#s3-default-encryption#arn:aws:s3:::${BUCKET}|BUDGET`, {
      pk: `FIXES#s3-default-encryption#arn:aws:s3:::${BUCKET}`,
      sk: 'BUDGET',
      fixes: ['2024-06-03T15:50:00.000Z'],
      version: 1,
      ttl: 1,
    });
  });
  afterEach(() => table.restore());

  it('are not read: no restore point until one is seen again, a budget that starts from zero', async () => {
    const at = new Date('2024-06-03T16:00:00Z');
    const ledger = new DynamoFixLedger(db, 'guard');

    expect(await new DynamoLastKnownGood(db, 'guard').get(key)).toBeUndefined();
    expect(await ledger.fixesSince(key, new Date('2024-06-03T15:00:00Z'))).toBe(0);
    expect(await ledger.spend(key, at, { maxFixes: 1, windowMinutes: 60 })).toEqual({ granted: true, fixes: 1 });
    expect(table.keys('FIXES#')).toEqual([
      `FIXES#${A}#s3-default-encryption#arn:aws:s3:::${BUCKET}`,
      `FIXES#s3-default-encryption#arn:aws:s3:::${BUCKET}`,
    ]);
  });
});
