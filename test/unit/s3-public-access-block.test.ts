import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetPublicAccessBlockCommand, PutPublicAccessBlockCommand, S3Client } from '@aws-sdk/client-s3';
import {
  GetPublicAccessBlockCommand as GetAccountBlockCommand,
  PutPublicAccessBlockCommand as PutAccountBlockCommand,
  S3ControlClient,
} from '@aws-sdk/client-s3-control';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { createAwsClients } from '../../core/aws';
import { parseEvent } from '../../core/events';
import type { Finding } from '../../core/finding';
import { InMemoryFixLedger } from '../../core/fix-budget';
import { InMemoryLastKnownGood } from '../../core/last-known-good';
import { ALL_CONTROLS, DETECTORS } from '../../controls';
import { parsePolicy } from '../../controls/policy';
import { judgeEvent, type Judgement } from '../../detectors/judge';
import { EventRouter } from '../../detectors/router';
import {
  evaluatePublicAccessBlock,
  publicAccessBlockPolicySchema,
  s3PublicAccessBlock,
  type BlockSettings,
  type PublicAccessBlockPolicy,
} from '../../detectors/s3-public-access-block';
import { accountBlockRef, bucketRef, s3AccountPublicAccessBlock } from '../../detectors/s3-resources';
import { remediate, type RemediationContext } from '../../remediators/remediate';
import { planPublicAccessBlock, s3PublicAccessBlockRemediator } from '../../remediators/s3-public-access-block';
import { FakeAws } from '../fakes';
import { fixture, jsonLines, runCli } from '../helpers';

const ACCOUNT = '111122223333';
const ALL_ON: BlockSettings = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };
const WEBSITE_OFF: BlockSettings = { ...ALL_ON, BlockPublicPolicy: false, RestrictPublicBuckets: false };
const policyOf = (input: Record<string, unknown> = {}) => publicAccessBlockPolicySchema().parse(input) as PublicAccessBlockPolicy;
const BUCKET = bucketRef('logs', 'eu-west-1', ACCOUNT);
const ACCOUNT_REF = accountBlockRef(ACCOUNT, 'us-east-1');
const WEBSITES = policyOf({ websiteBuckets: { tags: { 'rampart:public-website': 'true' }, arns: ['arn:aws:s3:::www-*'] } });
const finding = (overrides: Partial<Finding> = {}): Finding => ({
  id: 'f1',
  control: 's3-public-access-block',
  severity: 'high',
  resourceArn: 'arn:aws:s3:::logs',
  resourceType: 'AWS::S3::Bucket',
  region: 'eu-west-1',
  account: ACCOUNT,
  observed: {},
  desired: {},
  violation: 'x',
  eventId: 'e1',
  ...overrides,
});

describe('s3-public-access-block policy and kinds', () => {
  it('defaults to buckets only, no website exemption, high risk', () => {
    expect(policyOf()).toEqual({ account: false, websiteBuckets: { tags: {}, arns: [] }, risk: 'high' });
    expect(publicAccessBlockPolicySchema().safeParse({ accounts: true }).success).toBe(false);
  });

  it('names the account-level setting arn:<partition>:s3::<account>:account-public-access-block, and reads Config ids', () => {
    expect(ACCOUNT_REF.arn).toBe('arn:aws:s3::111122223333:account-public-access-block');
    expect(s3AccountPublicAccessBlock.arn.parse(ACCOUNT_REF.arn)).toMatchObject({ owner: ACCOUNT, arn: ACCOUNT_REF.arn });
    expect(s3AccountPublicAccessBlock.arn.parse('arn:aws:s3:::logs')).toBeUndefined();
    expect(s3AccountPublicAccessBlock.fromConfig({ resourceId: ACCOUNT, region: 'eu-west-1', account: ACCOUNT })).toMatchObject({
      arn: ACCOUNT_REF.arn,
      region: 'eu-west-1',
      account: ACCOUNT,
    });
  });
});

describe('evaluatePublicAccessBlock', () => {
  it('wants all four settings of a bucket on', () => {
    expect(evaluatePublicAccessBlock({ settings: ALL_ON, tags: {} }, policyOf(), BUCKET).status).toBe('compliant');
    expect(evaluatePublicAccessBlock({ settings: { ...ALL_ON, IgnorePublicAcls: false }, tags: {} }, policyOf(), BUCKET)).toMatchObject({
      status: 'violation',
      reason: 'Block Public Access of the bucket has IgnorePublicAcls off',
    });
    expect(evaluatePublicAccessBlock({ settings: null, tags: {} }, policyOf(), BUCKET)).toMatchObject({
      status: 'violation',
      reason: 'no Block Public Access of the bucket is configured',
    });
  });

  it('exempts a public website bucket (by tag or ARN) from the two policy settings only, and the finding says so', () => {
    const tagged = { settings: WEBSITE_OFF, tags: { 'rampart:public-website': 'true' } };
    expect(evaluatePublicAccessBlock(tagged, WEBSITES, BUCKET).status).toBe('compliant');
    expect(evaluatePublicAccessBlock({ settings: WEBSITE_OFF, tags: {} }, WEBSITES, bucketRef('www-shop')).status).toBe('compliant');
    expect(evaluatePublicAccessBlock({ ...tagged, settings: { ...WEBSITE_OFF, BlockPublicAcls: false } }, WEBSITES, BUCKET)).toMatchObject({
      status: 'violation',
      reason:
        'Block Public Access of the bucket has BlockPublicAcls off (public website bucket (tagged rampart:public-website=true): BlockPublicPolicy and RestrictPublicBuckets are not required)',
      desired: { settings: { BlockPublicAcls: true, IgnorePublicAcls: true } },
    });
    expect(evaluatePublicAccessBlock({ settings: WEBSITE_OFF, tags: {} }, WEBSITES, BUCKET).status).toBe('violation');
  });

  it('says unknown when only the tags an event does not carry could tell whether the website exemption holds', () => {
    expect(evaluatePublicAccessBlock({ settings: WEBSITE_OFF }, WEBSITES, BUCKET)).toEqual({
      status: 'unknown',
      reason: 'whether the bucket is a public website the policy exempts takes its tags (BlockPublicPolicy, RestrictPublicBuckets off)',
    });
    expect(evaluatePublicAccessBlock({ settings: { ...WEBSITE_OFF, IgnorePublicAcls: false } }, WEBSITES, BUCKET).status).toBe('violation');
  });

  it('holds the account-level setting only when the policy asks, to fewer settings when websites are exempted', () => {
    expect(evaluatePublicAccessBlock({ settings: null }, policyOf(), ACCOUNT_REF).status).toBe('compliant');
    expect(evaluatePublicAccessBlock({ settings: null }, policyOf({ account: true }), ACCOUNT_REF)).toMatchObject({
      status: 'violation',
      reason: 'no account-level Block Public Access is configured',
    });
    expect(evaluatePublicAccessBlock({ settings: WEBSITE_OFF }, { ...WEBSITES, account: true }, ACCOUNT_REF).status).toBe('compliant');
  });
});

const router = new EventRouter(DETECTORS);
const ON = parsePolicy({ controls: { 's3-public-access-block': { account: true } } });
const judged = (name: string): Judgement[] =>
  judgeEvent(parseEvent(fixture(name)), ON, router).judgements.filter((j) => j.control === 's3-public-access-block');

describe('s3-public-access-block on records and Config items', () => {
  it('finds the real console PutBucketPublicAccessBlock that left BlockPublicPolicy and BlockPublicAcls off', () => {
    expect(judged('s3-PutBucketPublicAccessBlock.panther-eventbridge-console-real.json')).toMatchObject([
      {
        outcome: 'violation',
        ref: { arn: 'arn:aws:s3:::austin-panther', region: 'us-west-2', account: '111111111111' },
        finding: { violation: 'Block Public Access of the bucket has BlockPublicAcls, BlockPublicPolicy off' },
      },
    ]);
  });

  it('takes DeleteBucketPublicAccessBlock and DeleteAccountPublicAccessBlock as every setting off', () => {
    expect(judged('s3-DeleteBucketPublicAccessBlock-constructed.json')).toMatchObject([
      { outcome: 'violation', ref: { arn: 'arn:aws:s3:::rampart-demo-logs' }, state: { settings: null } },
    ]);
    expect(judged('s3-DeleteAccountPublicAccessBlock-constructed.json')).toMatchObject([
      { outcome: 'violation', ref: { arn: ACCOUNT_REF.arn, account: ACCOUNT, region: 'us-east-1' }, state: { settings: null } },
    ]);
  });

  it('reads an account-level PutAccountPublicAccessBlock body and the Config item of the account setting', () => {
    for (const name of [
      's3-PutAccountPublicAccessBlock-constructed.json',
      'config-ConfigurationItemChangeNotification.s3-account-block-constructed.json',
    ])
      expect(judged(name)).toMatchObject([
        {
          outcome: 'violation',
          ref: { arn: ACCOUNT_REF.arn },
          finding: { violation: 'account-level Block Public Access has BlockPublicPolicy, RestrictPublicBuckets off' },
        },
      ]);
  });

  it('reads the bucket settings of a Config item (lower camel keys)', () => {
    expect(judged('config-ConfigurationItemChangeNotification.s3-public-policy-constructed.json')).toMatchObject([
      { outcome: 'violation', state: { settings: WEBSITE_OFF } },
    ]);
    expect(judged('config-ConfigurationItemChangeNotification.s3-aes256-constructed.json')).toMatchObject([{ outcome: 'compliant' }]);
  });

  it('leaves CreateBucket to a read: the record does not say whether S3 applied its default', () => {
    expect(judged('s3-CreateBucket.eu-west-1-constructed.json')).toMatchObject([{ outcome: 'unknown' }]);
  });
});

describe('planPublicAccessBlock', () => {
  it('turns on what is off, with all four settings sent (the call replaces the configuration)', () => {
    expect(planPublicAccessBlock(finding(), { settings: { ...ALL_ON, IgnorePublicAcls: false }, tags: {} }, policyOf()).change).toEqual({
      service: 's3',
      operation: 'PutPublicAccessBlock',
      region: 'eu-west-1',
      input: { Bucket: 'logs', ExpectedBucketOwner: ACCOUNT, PublicAccessBlockConfiguration: ALL_ON },
    });
  });

  it('leaves an exempted website bucket its public policy', () => {
    const plan = planPublicAccessBlock(
      finding(),
      { settings: { ...WEBSITE_OFF, BlockPublicAcls: false }, tags: { 'rampart:public-website': 'true' } },
      WEBSITES,
    );
    expect(plan.change?.input.PublicAccessBlockConfiguration).toEqual(WEBSITE_OFF);
  });

  it('fixes the account through S3 Control with its AccountId', () => {
    const plan = planPublicAccessBlock(
      finding({ resourceArn: ACCOUNT_REF.arn, resourceType: 'AWS::S3::AccountPublicAccessBlock', region: 'us-east-1' }),
      { settings: null },
      policyOf({ account: true }),
    );
    expect(plan.change).toEqual({
      service: 's3control',
      operation: 'PutPublicAccessBlock',
      region: 'us-east-1',
      input: { AccountId: ACCOUNT, PublicAccessBlockConfiguration: ALL_ON },
    });
    expect(s3PublicAccessBlockRemediator.targetOf(plan.change!)).toBe(ACCOUNT_REF.arn);
  });

  it('plans nothing where a guess could take a website down', () => {
    expect(planPublicAccessBlock(finding(), { settings: { ...WEBSITE_OFF, IgnorePublicAcls: false } }, WEBSITES)).toEqual({
      change: null,
      reason: 'whether the bucket is a public website the policy exempts takes its tags',
    });
  });
});

describe('s3-public-access-block against stateful S3 and S3 Control fakes', () => {
  let aws: FakeAws;
  const sts = mockClient(STSClient);
  let ctx: RemediationContext;
  const policy = parsePolicy({
    approvals: { approvers: { emails: ['secops@example.com'] } },
    controls: { 's3-public-access-block': { account: true, risk: 'low', websiteBuckets: { tags: { 'rampart:public-website': 'true' } } } },
  });

  beforeEach(() => {
    aws = new FakeAws();
    sts.reset();
    sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/ops` });
    aws.buckets.set('open', { region: 'us-east-1' });
    aws.buckets.set('partial', { region: 'eu-west-1', publicAccessBlock: { ...ALL_ON, RestrictPublicBuckets: false } });
    aws.buckets.set('site', { region: 'us-east-1', publicAccessBlock: WEBSITE_OFF, tags: { 'rampart:public-website': 'true' } });
    aws.buckets.set('closed', { region: 'us-east-1', publicAccessBlock: ALL_ON });
    ctx = {
      controls: ALL_CONTROLS,
      policy,
      clients: createAwsClients({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
      lastKnownGood: new InMemoryLastKnownGood(),
      fixes: new InMemoryFixLedger(),
      clock: () => new Date('2024-06-03T16:00:00Z'),
      account: ACCOUNT,
      verifyDelayMs: 1,
      sleep: async () => undefined,
    };
  });
  afterEach(() => aws.restore());
  afterAll(() => sts.restore());

  const clients = () => createAwsClients({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  /** Independent read-backs: what S3 and S3 Control answer, not the control's reader. */
  const bucketBlock = async (bucket: string) =>
    (
      await clients()
        .get(S3Client)
        .send(new GetPublicAccessBlockCommand({ Bucket: bucket }))
    ).PublicAccessBlockConfiguration;
  const accountBlock = async () =>
    (
      await clients()
        .get(S3ControlClient)
        .send(new GetAccountBlockCommand({ AccountId: ACCOUNT }))
    ).PublicAccessBlockConfiguration;

  it('reads a bucket without a configuration as none, and an account without one as none', async () => {
    expect(await s3PublicAccessBlock.readState(bucketRef('open', 'us-east-1', ACCOUNT), clients())).toEqual({
      status: 'known',
      state: { settings: null, tags: {} },
      tags: {},
    });
    expect(await s3PublicAccessBlock.readState(ACCOUNT_REF, clients())).toEqual({ status: 'known', state: { settings: null }, tags: {} });
    expect(await s3PublicAccessBlock.readState(bucketRef('gone', 'us-east-1'), clients())).toMatchObject({ status: 'gone' });
  });

  it('turns on the bucket setting that is off and keeps the others, read back', async () => {
    const outcome = await remediate(finding({ resourceArn: 'arn:aws:s3:::partial' }), ctx);

    expect(outcome).toMatchObject({ outcome: 'remediated', change: { service: 's3', input: { Bucket: 'partial' } } });
    expect(await bucketBlock('partial')).toEqual(ALL_ON);
  });

  it('fixes the account-level setting through S3 Control, read back', async () => {
    const outcome = await remediate(
      finding({ resourceArn: ACCOUNT_REF.arn, resourceType: 'AWS::S3::AccountPublicAccessBlock', region: 'us-east-1' }),
      { ...ctx, policy: parsePolicy({ controls: { 's3-public-access-block': { account: true, risk: 'low' } } }) },
    );

    expect(outcome).toMatchObject({ outcome: 'remediated', change: { service: 's3control', input: { AccountId: ACCOUNT } } });
    expect(aws.s3Control.commandCalls(PutAccountBlockCommand)).toHaveLength(1);
    expect(await accountBlock()).toEqual(ALL_ON);
  });

  it('rampart scan finds the open and partial buckets and the account (the website exempted, the account held to the ACL settings)', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'rampart-bpa-'));
    const file = join(tmp, 'policy.yaml');
    writeFileSync(
      file,
      [
        'controls:',
        '  s3-public-access-block:',
        '    account: true',
        '    risk: low',
        '    websiteBuckets: { tags: { "rampart:public-website": "true" } }',
        '',
      ].join('\n'),
    );

    const scan = await runCli(['scan', '--json', '--config', file, '--region', 'us-east-1']);
    const findings = jsonLines(scan.stdout).filter((l) => l.type === 'finding');

    expect(findings.map((f) => f.resourceArn).sort()).toEqual([ACCOUNT_REF.arn, 'arn:aws:s3:::open', 'arn:aws:s3:::partial']);
    const account = findings.find((f) => f.resourceArn === ACCOUNT_REF.arn)!;
    expect(account.violation).toContain(
      'are not required of the account: they would override the public website buckets the policy exempts',
    );
    for (const f of findings) {
      const fixed = await runCli(['remediate', '--json', '--config', file, '--region', 'us-east-1', '--finding', JSON.stringify(f)]);
      expect(JSON.parse(fixed.stdout)).toMatchObject({ outcome: 'remediated', resourceArn: f.resourceArn });
    }
    expect(await bucketBlock('open')).toEqual(ALL_ON);
    expect(await bucketBlock('site')).toEqual(WEBSITE_OFF);
    expect(await accountBlock()).toEqual({ ...ALL_ON, BlockPublicPolicy: false, RestrictPublicBuckets: false });
    expect(aws.s3.commandCalls(PutPublicAccessBlockCommand)).toHaveLength(2);
  });
});
