import { PutBucketEncryptionCommand, S3Client } from '@aws-sdk/client-s3';
import { APIGatewayClient, UpdateStageCommand } from '@aws-sdk/client-api-gateway';
import { GetBucketEncryptionCommand } from '@aws-sdk/client-s3';
import { AssociateWebACLCommand, WAFNonexistentItemException, WAFV2Client } from '@aws-sdk/client-wafv2';
import { createAwsClients } from '../../core/aws';
import { parseEvent } from '../../core/events';
import type { Change } from '../../core/control';
import type { Finding } from '../../core/finding';
import { InMemoryFixLedger } from '../../core/fix-budget';
import { findingKey, resourceKey } from '../../core/resource-key';
import { InMemoryLastKnownGood } from '../../core/last-known-good';
import type { Policy } from '../../core/policy';
import { ALL_CONTROLS, DETECTORS } from '../../controls';
import { judgeEvent } from '../../detectors/judge';
import { EventRouter } from '../../detectors/router';
import { applyChange, planRemediation, remediate, type RemediationContext } from '../../remediators/remediate';
import { FakeAws, s3Error } from '../fakes';
import { ARTIFACTS_KEY, LEGACY_ACL, RAMPART_GUARD_ACL, fixture, policy } from '../helpers';

const router = new EventRouter(DETECTORS);
const KMS_POLICY = policy({
  controls: {
    's3-default-encryption': { algorithm: 'aws:kms', kmsKeyId: ARTIFACTS_KEY, bucketKeyEnabled: true },
    'apigateway-waf': { defaultWebAclArn: RAMPART_GUARD_ACL },
    'apigateway-throttling': { rateLimit: 1000, burstLimit: 500 },
  },
  exemptions: { tags: { 'rampart:exempt': 'true' } },
});
const PROD = 'arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod';
const SSE_S3_RULE = { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' as const }, BucketKeyEnabled: false };

/** The findings a real event sample yields. */
function findingsOf(name: string, p: Policy = KMS_POLICY): Finding[] {
  return judgeEvent(parseEvent(fixture(name)), p, router).judgements.flatMap((j) => (j.outcome === 'violation' ? [j.finding] : []));
}

describe('remediate against a stateful fake account', () => {
  let aws: FakeAws;
  let ctx: RemediationContext;
  let now: Date;
  let sleeps: number[];

  beforeEach(() => {
    aws = new FakeAws();
    now = new Date('2024-06-03T16:00:00Z');
    sleeps = [];
    ctx = {
      controls: ALL_CONTROLS,
      policy: KMS_POLICY,
      clients: createAwsClients({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
      lastKnownGood: new InMemoryLastKnownGood(),
      fixes: new InMemoryFixLedger(),
      clock: () => now,
      verifyDelayMs: 100,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    };
    aws.buckets.set('rampart-demo-logs', { rule: SSE_S3_RULE });
    aws.stages.set(PROD, { methodSettings: { '*/*': { throttlingRateLimit: 2000, throttlingBurstLimit: 1000 } }, webAclArn: LEGACY_ACL });
    aws.webAcls.add(RAMPART_GUARD_ACL).add(LEGACY_ACL);
  });
  afterEach(() => aws.restore());

  it('restores SSE-KMS with the policy key after DeleteBucketEncryption, and a second run changes nothing', async () => {
    const [finding] = findingsOf('s3-DeleteBucketEncryption-constructed.json');

    const first = await remediate(finding!, ctx);
    const second = await remediate(finding!, ctx);

    expect(first).toMatchObject({
      outcome: 'remediated',
      verifiedState: { algorithm: 'aws:kms', kmsKeyId: ARTIFACTS_KEY, bucketKeyEnabled: true },
    });
    expect(aws.s3).toHaveReceivedCommandWith(PutBucketEncryptionCommand, {
      Bucket: 'rampart-demo-logs',
      ExpectedBucketOwner: '111122223333',
      ServerSideEncryptionConfiguration: {
        Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: ARTIFACTS_KEY }, BucketKeyEnabled: true }],
      },
    });
    expect(second).toMatchObject({ outcome: 'already-compliant', change: null });
    expect(aws.writes).toEqual(['PutBucketEncryption rampart-demo-logs']);
  });

  it('re-attaches the required web ACL in place of another one', async () => {
    const [finding] = findingsOf('wafv2-AssociateWebACL.other-acl-adapted.json');

    const result = await remediate(finding!, ctx);

    expect(result).toMatchObject({
      outcome: 'remediated',
      change: { operation: 'AssociateWebACL', input: { WebACLArn: RAMPART_GUARD_ACL, ResourceArn: PROD } },
    });
    expect(aws.stages.get(PROD)?.webAclArn).toBe(RAMPART_GUARD_ACL);
  });

  it("replaces an ACL merely named like Firewall Manager's, and leaves one WAF says it manages", async () => {
    const impostor =
      'arn:aws:wafv2:us-east-1:111122223333:regional/webacl/FMManagedWebACLV2-allow-all/0f0e0d0c-1111-4222-8333-944455556666';
    const fms =
      'arn:aws:wafv2:us-east-1:111122223333:regional/webacl/FMManagedWebACLV2-baseline-1700000000000/1f1e1d1c-1111-4222-8333-944455556666';
    aws.webAcls.add(impostor).add(fms);
    aws.firewallManagerAcls.add(fms);
    const [finding] = findingsOf('wafv2-AssociateWebACL.other-acl-adapted.json');

    aws.stages.get(PROD)!.webAclArn = fms;
    expect(await remediate(finding!, ctx)).toMatchObject({ outcome: 'already-compliant' });
    // a compliant Firewall Manager ACL is recorded as such: never restored as last-known-good
    expect(await ctx.lastKnownGood.get(resourceKey('apigateway-waf', { arn: PROD, account: '111122223333' }))).toEqual({
      webAclArn: fms,
      managedByFirewallManager: true,
    });

    aws.stages.get(PROD)!.webAclArn = impostor;
    expect(await remediate(finding!, ctx)).toMatchObject({ outcome: 'remediated', change: { input: { WebACLArn: RAMPART_GUARD_ACL } } });
    expect(aws.stages.get(PROD)?.webAclArn).toBe(RAMPART_GUARD_ACL);
  });

  it('leaves a stage tagged exempt without a web ACL alone (its tags come from GetTags)', async () => {
    aws.stages.get(PROD)!.tags = { 'rampart:exempt': 'true' };
    aws.stages.get(PROD)!.webAclArn = undefined;
    const [finding] = findingsOf('wafv2-DisassociateWebACL.rest-stage-adapted.json').map((f) => ({ ...f, resourceArn: PROD }));

    expect(await remediate(finding!, ctx)).toMatchObject({ outcome: 'exempt', reason: 'exempt: tagged rampart:exempt=true' });
    expect(aws.writes).toEqual([]);
  });

  it('retries verify with growing delays while a fresh association does not show yet', async () => {
    const [finding] = findingsOf('wafv2-AssociateWebACL.other-acl-adapted.json');
    const stage = aws.stages.get(PROD)!;
    aws.wafv2.on(AssociateWebACLCommand).callsFake((input: { WebACLArn: string }) => {
      stage.webAclArn = input.WebACLArn;
      aws.associationLag = 2; // the next two reads still show the stage without ACL
      return {};
    });

    const result = await remediate(finding!, ctx);

    expect(result.outcome).toBe('remediated');
    expect(sleeps).toEqual([100, 200]);
  });

  it('fails with VerifyMismatch when the fix does not read back', async () => {
    const [finding] = findingsOf('s3-DeleteBucketEncryption-constructed.json');
    aws.s3.on(PutBucketEncryptionCommand).resolves({}); // accepted, but nothing changes

    const result = await remediate(finding!, { ...ctx, verifyAttempts: 3 });

    expect(result).toMatchObject({ outcome: 'failed', errorCode: 'VerifyMismatch' });
    expect(result.reason).toMatch(/^PutBucketEncryption was applied but the resource does not read back compliant: /);
    expect(sleeps).toEqual([100, 200]);
  });

  it('restores stage throttling to the policy values', async () => {
    const [finding] = findingsOf('apigateway-UpdateStage.throttle-over-constructed.json');

    const result = await remediate(finding!, ctx);

    expect(result.outcome).toBe('remediated');
    expect(aws.apiGateway).toHaveReceivedCommandWith(UpdateStageCommand, {
      restApiId: 'a1b2c3d4e5',
      stageName: 'prod',
      patchOperations: [
        { op: 'replace', path: '/*/*/throttling/rateLimit', value: '1000' },
        { op: 'replace', path: '/*/*/throttling/burstLimit', value: '500' },
      ],
    });
    expect(aws.stages.get(PROD)?.methodSettings['*/*']).toEqual({ throttlingRateLimit: 1000, throttlingBurstLimit: 500 });
  });

  it('restores the last known good usage plan throttle', async () => {
    aws.usagePlans.set('u1p2l3', { throttle: { rateLimit: 5000, burstLimit: 100 } });
    await ctx.lastKnownGood.put(
      resourceKey('apigateway-throttling', { arn: 'arn:aws:apigateway:us-east-1::/usageplans/u1p2l3', account: '111122223333' }),
      { kind: 'usage-plan', throttle: { rateLimit: 250, burstLimit: 100 }, quotaLimit: null, complete: true },
      now,
    );
    const [finding] = findingsOf('apigateway-UpdateUsagePlan.throttle-over-constructed.json');

    const result = await remediate(finding!, ctx);

    expect(result.outcome).toBe('remediated');
    expect(aws.usagePlans.get('u1p2l3')?.throttle).toEqual({ rateLimit: 250, burstLimit: 100 });
  });

  it('names the missing permission on AccessDenied and says an SCP may be the cause', async () => {
    const [finding] = findingsOf('s3-DeleteBucketEncryption-constructed.json');
    aws.s3.on(PutBucketEncryptionCommand).rejects(s3Error('AccessDenied', 403));

    const result = await remediate(finding!, ctx);

    expect(result).toMatchObject({ outcome: 'failed', errorCode: 'AccessDenied' });
    expect(result.reason).toBe(
      "PutBucketEncryption on arn:aws:s3:::rampart-demo-logs was denied: it needs s3:PutEncryptionConfiguration. The guard's role may lack it, or a service control policy or permissions boundary may deny it.",
    );
    expect(aws.buckets.get('rampart-demo-logs')?.rule).toEqual(SSE_S3_RULE);
  });

  it('closes as resource-gone when the bucket is gone before the read, or between read and write', async () => {
    const [finding] = findingsOf('s3-DeleteBucketEncryption-constructed.json');
    aws.buckets.delete('rampart-demo-logs');

    expect(await remediate(finding!, ctx)).toMatchObject({ outcome: 'resource-gone', change: null });

    aws.buckets.set('rampart-demo-logs', { rule: SSE_S3_RULE });
    aws.s3.on(PutBucketEncryptionCommand).rejects(s3Error('NoSuchBucket'));
    expect(await remediate(finding!, ctx)).toMatchObject({ outcome: 'resource-gone', errorCode: 'NoSuchBucket' });
  });

  it('closes as resource-gone on NotFoundException and WAFNonexistentItemException', async () => {
    const [throttling] = findingsOf('apigateway-UpdateStage.throttle-over-constructed.json');
    const [waf] = findingsOf('wafv2-DisassociateWebACL.rest-stage-adapted.json'); // stage f6g7h8i9j0/v1 does not exist in the fake

    expect(await remediate({ ...throttling!, resourceArn: 'arn:aws:apigateway:us-east-1::/restapis/zzz/stages/gone' }, ctx)).toMatchObject({
      outcome: 'resource-gone',
    });
    expect(await remediate(waf!, ctx)).toMatchObject({ outcome: 'resource-gone' });
    expect(aws.writes).toEqual([]);
  });

  it('stops with loop-suspected after the fix budget is spent, writing nothing more', async () => {
    const [finding] = findingsOf('s3-DeleteBucketEncryption-constructed.json');
    const outcomes: string[] = [];
    for (let i = 0; i < 4; i++) {
      aws.buckets.get('rampart-demo-logs')!.rule = SSE_S3_RULE; // another automation undoes the fix
      outcomes.push((await remediate(finding!, ctx)).outcome);
      now = new Date(now.getTime() + 60_000);
    }

    expect(outcomes).toEqual(['remediated', 'remediated', 'remediated', 'loop-suspected']);
    expect(aws.writes).toHaveLength(3);
  });

  it('fixes again once the budget window has passed', async () => {
    const [finding] = findingsOf('s3-DeleteBucketEncryption-constructed.json');
    for (let i = 0; i < 3; i++) {
      aws.buckets.get('rampart-demo-logs')!.rule = SSE_S3_RULE;
      await remediate(finding!, ctx);
    }
    aws.buckets.get('rampart-demo-logs')!.rule = SSE_S3_RULE;
    now = new Date(now.getTime() + 61 * 60_000);

    expect((await remediate(finding!, ctx)).outcome).toBe('remediated');
  });

  it('lets exactly one of two racing applies take the last fix of the budget', async () => {
    const [finding] = findingsOf('s3-DeleteBucketEncryption-constructed.json');
    for (let i = 0; i < 2; i++) {
      aws.buckets.get('rampart-demo-logs')!.rule = SSE_S3_RULE;
      await remediate(finding!, ctx);
    }
    aws.buckets.get('rampart-demo-logs')!.rule = SSE_S3_RULE;
    const [a, b] = await Promise.all([planRemediation(finding!, ctx), planRemediation(finding!, ctx)]);

    const results = await Promise.all([a, b].map((step) => applyChange(finding!, (step as { change: Change }).change, ctx)));

    expect(results.map((r) => r?.outcome ?? 'applied').sort()).toEqual(['applied', 'loop-suspected']);
    expect(aws.writes).toHaveLength(3);
  });

  it('counts two fixes in the same millisecond twice', async () => {
    const [finding] = findingsOf('s3-DeleteBucketEncryption-constructed.json');
    const step = await planRemediation(finding!, ctx);
    const change = (step as { change: Change }).change;

    await Promise.all([applyChange(finding!, change, ctx), applyChange(finding!, change, ctx)]);

    expect(await ctx.fixes.fixesSince(findingKey(finding!), now)).toBe(2);
  });

  it('does not count a fix whose write failed', async () => {
    const [finding] = findingsOf('s3-DeleteBucketEncryption-constructed.json');
    aws.s3.on(PutBucketEncryptionCommand).rejects(s3Error('AccessDenied', 403));

    await remediate(finding!, ctx);

    expect(await ctx.fixes.fixesSince(findingKey(finding!), now)).toBe(0);
  });

  it('writes nothing when the fix budget cannot be counted (its store fails)', async () => {
    const [finding] = findingsOf('s3-DeleteBucketEncryption-constructed.json');
    ctx.fixes.spend = async () => {
      throw Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
        name: 'ProvisionedThroughputExceededException',
        $fault: 'client',
      });
    };

    await expect(remediate(finding!, ctx)).rejects.toThrow('Rate of requests exceeds the allowed throughput');
    expect(aws.writes).toEqual([]);
  });

  it('fails with "web ACL … does not exist" when the ACL to attach was deleted, not resource-gone', async () => {
    const [finding] = findingsOf('wafv2-AssociateWebACL.other-acl-adapted.json');
    aws.webAcls.delete(RAMPART_GUARD_ACL);

    const result = await remediate(finding!, ctx);

    expect(result).toMatchObject({ outcome: 'failed', errorCode: 'Rampart.WebAclMissing' });
    expect(result.reason).toContain(`web ACL ${RAMPART_GUARD_ACL} does not exist`);
    expect(result.retryable).toBeUndefined();
  });

  it('says WAF does not see a brand-new stage yet (retryable) while the stage and the ACL exist', async () => {
    const [finding] = findingsOf('wafv2-AssociateWebACL.other-acl-adapted.json');
    aws.wafv2.on(AssociateWebACLCommand).rejects(
      new WAFNonexistentItemException({
        message: 'AWS WAF couldn’t perform the operation because your resource doesn’t exist.',
        $metadata: {},
      }),
    );

    const result = await remediate(finding!, ctx);

    expect(result).toMatchObject({ outcome: 'failed', errorCode: 'Rampart.NotYetVisible', retryable: true });
    expect(result.reason).toBe(`WAF does not see stage ${PROD} yet (it exists in API Gateway, and web ACL ${RAMPART_GUARD_ACL} exists)`);
  });

  it('closes as resource-gone when AssociateWebACL finds no stage and API Gateway has none either', async () => {
    const [finding] = findingsOf('wafv2-AssociateWebACL.other-acl-adapted.json');
    aws.wafv2.on(AssociateWebACLCommand).callsFake(() => {
      aws.stages.delete(PROD); // deleted between the plan and the write
      throw new WAFNonexistentItemException({ message: 'no such item', $metadata: {} });
    });

    expect(await remediate(finding!, ctx)).toMatchObject({ outcome: 'resource-gone', errorCode: 'WAFNonexistentItemException' });
  });

  it('names the read permission, not the write, when reading back after the fix is denied', async () => {
    const [finding] = findingsOf('s3-DeleteBucketEncryption-constructed.json');
    let reads = 0;
    aws.s3.on(GetBucketEncryptionCommand).callsFake(() => {
      if (++reads > 1) throw s3Error('AccessDenied', 403); // the plan's read works, the verify's does not
      return { ServerSideEncryptionConfiguration: { Rules: [SSE_S3_RULE] } };
    });

    const result = await remediate(finding!, ctx);

    expect(result).toMatchObject({ outcome: 'failed', errorCode: 'AccessDenied' });
    expect(result.reason).toMatch(
      /^PutBucketEncryption was applied; reading arn:aws:s3:::rampart-demo-logs back was denied: it needs s3:GetEncryptionConfiguration/,
    );
    expect(result.reason).not.toContain('s3:PutEncryptionConfiguration');
  });

  it('reports a throttled write as it happened, without promising another try', async () => {
    const [finding] = findingsOf('s3-DeleteBucketEncryption-constructed.json');
    aws.s3.on(PutBucketEncryptionCommand).rejects(s3Error('SlowDown', 503));

    const result = await remediate(finding!, ctx);

    expect(result).toMatchObject({ outcome: 'failed', errorCode: 'SlowDown', retryable: true });
    expect(result.reason).toBe('PutBucketEncryption on arn:aws:s3:::rampart-demo-logs was throttled (SlowDown: SlowDown)');
  });

  it('never writes to an exempt resource (tag read live)', async () => {
    aws.buckets.get('rampart-demo-logs')!.tags = { 'rampart:exempt': 'true' };
    const [finding] = findingsOf('s3-DeleteBucketEncryption-constructed.json');

    expect(await remediate(finding!, ctx)).toMatchObject({ outcome: 'exempt', reason: 'exempt: tagged rampart:exempt=true' });
    expect(aws.s3).not.toHaveReceivedCommand(PutBucketEncryptionCommand);
  });

  it('refuses a change that writes to another resource than the finding', async () => {
    const [finding] = findingsOf('s3-DeleteBucketEncryption-constructed.json');
    const change = {
      service: 's3' as const,
      operation: 'PutBucketEncryption',
      region: 'us-east-1',
      input: { Bucket: 'someone-elses-bucket', ServerSideEncryptionConfiguration: { Rules: [] } },
    };

    const result = await applyChange(finding!, change, ctx);

    expect(result).toMatchObject({
      outcome: 'failed',
      reason: "refused: the change writes to arn:aws:s3:::someone-elses-bucket, not to the finding's arn:aws:s3:::rampart-demo-logs",
    });
    expect(aws.s3).not.toHaveReceivedCommand(PutBucketEncryptionCommand);
  });

  it('never downgrades DSSE-KMS: a DSSE bucket on another key keeps both layers and gets the policy key', async () => {
    const other = 'arn:aws:kms:us-east-1:111122223333:key/ffffffff-1111-4222-8333-444444444444';
    aws.buckets.get('rampart-demo-logs')!.rule = {
      ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms:dsse', KMSMasterKeyID: other },
    };
    const [finding] = findingsOf('s3-DeleteBucketEncryption-constructed.json');

    expect(await remediate(finding!, ctx)).toMatchObject({ outcome: 'remediated' });
    expect(aws.buckets.get('rampart-demo-logs')!.rule).toEqual({
      ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms:dsse', KMSMasterKeyID: ARTIFACTS_KEY },
    });
  });

  it('settles an alias policy against a key ARN with KMS before judging', async () => {
    aws.buckets.get('rampart-demo-logs')!.rule = {
      ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: ARTIFACTS_KEY },
      BucketKeyEnabled: true,
    };
    aws.aliases.set('alias/rampart', ARTIFACTS_KEY);
    const aliasPolicy = policy({
      controls: { 's3-default-encryption': { algorithm: 'aws:kms', kmsKeyId: 'alias/rampart', bucketKeyEnabled: true } },
    });
    const [finding] = findingsOf('s3-DeleteBucketEncryption-constructed.json', aliasPolicy);

    expect(await remediate(finding!, { ...ctx, policy: aliasPolicy })).toMatchObject({ outcome: 'already-compliant' });
    expect(aws.writes).toEqual([]);
  });

  it('configures the SDK clients to retry transient errors themselves (adaptive, 5 attempts)', async () => {
    const clients = createAwsClients({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });

    expect(await clients.get(S3Client, 'eu-west-1').config.maxAttempts()).toBe(5);
    expect(((await clients.get(APIGatewayClient, 'us-east-1').config.retryStrategy()) as { mode?: string }).mode).toBe('adaptive');
    expect(await clients.get(WAFV2Client, 'us-east-1').config.region()).toBe('us-east-1');
  });
});
