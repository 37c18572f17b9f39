import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetBucketPolicyCommand, PutBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
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
import { bucketRef } from '../../detectors/s3-resources';
import { evaluateTlsOnly, s3TlsOnly, tlsOnlyPolicySchema, type TlsOnlyState } from '../../detectors/s3-tls-only';
import { remediate, type RemediationContext } from '../../remediators/remediate';
import { BUCKET_POLICY_MAX_BYTES, planTlsOnly, s3TlsOnlyRemediator, TLS_ONLY_SID, tlsOnlyStatement } from '../../remediators/s3-tls-only';
import { FakeAws } from '../fakes';
import { fixture, jsonLines, runCli } from '../helpers';

const ACCOUNT = '111122223333';
const ARN = 'arn:aws:s3:::logs';
const REF = bucketRef('logs', 'eu-west-1', ACCOUNT);
const POLICY = tlsOnlyPolicySchema().parse({});
const doc = (...Statement: unknown[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const TLS_DENY = {
  Effect: 'Deny',
  Principal: '*',
  Action: 's3:*',
  Resource: [ARN, `${ARN}/*`],
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
};
const PARTNER = {
  Sid: 'PartnerRead',
  Effect: 'Allow',
  Principal: { AWS: 'arn:aws:iam::444455556666:root' },
  Action: ['s3:GetObject', 's3:ListBucket'],
  Resource: [ARN, `${ARN}/*`],
};
const finding = (overrides: Partial<Finding> = {}): Finding => ({
  id: 'f1',
  control: 's3-tls-only',
  severity: 'medium',
  resourceArn: ARN,
  resourceType: 'AWS::S3::Bucket',
  region: 'eu-west-1',
  account: ACCOUNT,
  observed: {},
  desired: {},
  violation: 'x',
  eventId: 'e1',
  ...overrides,
});
/** A policy of other statements, 100 bytes under the 20 KB limit: no room for the TLS statement. */
function nearLimit(): string {
  const base = doc({ ...PARTNER, Sid: 'P' });
  return doc({ ...PARTNER, Sid: 'P' + 'x'.repeat(BUCKET_POLICY_MAX_BYTES - 100 - base.length) });
}
const status = (policy: string | null) => evaluateTlsOnly({ policy }, POLICY, REF).status;

describe('evaluateTlsOnly: what counts as denying requests without TLS', () => {
  it('finds a bucket without a policy', () => {
    expect(evaluateTlsOnly({ policy: null }, POLICY, REF)).toMatchObject({
      status: 'violation',
      reason: 'bucket has no bucket policy: requests without TLS (aws:SecureTransport false) are not denied',
    });
  });

  it('accepts the deny of every S3 action to everyone on the bucket and its objects, in one statement or two', () => {
    expect(status(doc(TLS_DENY))).toBe('compliant');
    expect(status(doc({ ...TLS_DENY, Resource: ARN }, { ...TLS_DENY, Resource: `${ARN}/*` }))).toBe('compliant');
    expect(status(doc({ ...TLS_DENY, Principal: { AWS: '*' }, Action: ['*'], Resource: 'arn:aws:s3:::*' }))).toBe('compliant');
    expect(status(doc({ ...TLS_DENY, Condition: { Bool: { 'aws:securetransport': false } } }))).toBe('compliant');
  });

  it('names what is left uncovered', () => {
    expect(evaluateTlsOnly({ policy: doc({ ...TLS_DENY, Resource: `${ARN}/*` }) }, POLICY, REF)).toMatchObject({
      status: 'violation',
      reason: 'bucket policy does not deny requests without TLS (aws:SecureTransport false) on the bucket',
      observed: { deniesInsecureTransport: { bucket: false, objects: true } },
    });
    expect(evaluateTlsOnly({ policy: doc({ ...TLS_DENY, Resource: ARN }) }, POLICY, REF)).toMatchObject({
      reason: 'bucket policy does not deny requests without TLS (aws:SecureTransport false) on its objects',
    });
  });

  it.each([
    ['an Allow', { ...TLS_DENY, Effect: 'Allow' }],
    ['one principal only', { ...TLS_DENY, Principal: { AWS: 'arn:aws:iam::444455556666:root' } }],
    ['some actions only', { ...TLS_DENY, Action: ['s3:GetObject', 's3:PutObject'] }],
    [
      'a second condition that narrows it',
      { ...TLS_DENY, Condition: { Bool: { 'aws:SecureTransport': 'false' }, IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } },
    ],
    ['another condition', { ...TLS_DENY, Condition: { StringNotEquals: { 'aws:sourceVpce': 'vpce-1a2b3c4d' } } }],
    ['secure transport true', { ...TLS_DENY, Condition: { Bool: { 'aws:SecureTransport': 'true' } } }],
    ['NotResource', { ...TLS_DENY, Resource: undefined, NotResource: 'arn:aws:s3:::other' }],
    ['NotPrincipal', { ...TLS_DENY, NotPrincipal: { AWS: 'arn:aws:iam::111122223333:root' } }],
    ['another bucket', { ...TLS_DENY, Resource: ['arn:aws:s3:::logs-archive', 'arn:aws:s3:::logs-archive/*'] }],
    ['a key prefix only', { ...TLS_DENY, Resource: [ARN, `${ARN}/private/*`] }],
  ])('does not count %s', (_what, statement) => {
    expect(status(doc(statement))).toBe('violation');
  });

  it('says unknown for a policy text it cannot read', () => {
    expect(evaluateTlsOnly({ policy: '{"Statement":' }, POLICY, REF)).toEqual({
      status: 'unknown',
      reason: 'the bucket policy is not JSON',
    });
  });
});

const router = new EventRouter(DETECTORS);
const POLICY_ON = parsePolicy({ controls: { 's3-tls-only': {} } });
const judged = (name: string): Judgement[] =>
  judgeEvent(parseEvent(fixture(name)), POLICY_ON, router).judgements.filter((j) => j.control === 's3-tls-only');

describe('s3-tls-only on real records', () => {
  it('finds the public-read PutBucketPolicy and the VPC-endpoint deny (a deny on another condition is no TLS deny)', () => {
    for (const name of [
      's3-PutBucketPolicy.cloudbuddy-eventbridge-public-real.json',
      's3-PutBucketPolicy.cloudbuddy-eventbridge-deny-vpce-real.json',
      's3-PutBucketPolicy.cwlogs-notes-2019-real.json',
    ]) {
      const [j] = judged(name);
      expect({ name, outcome: j?.outcome }).toEqual({ name, outcome: 'violation' });
    }
    const [bare] = judged('s3-PutBucketPolicy.cwlogs-notes-2019-real.json');
    expect(bare).toMatchObject({ ref: { arn: 'arn:aws:s3:::my-bucket', account: '555555555555', region: 'us-east-1' } });
  });

  it('takes a PutBucketPolicy with a TLS deny as compliant, and DeleteBucketPolicy as no policy at all', () => {
    expect(judged('s3-PutBucketPolicy.tls-deny-adapted.json').map((j) => j.outcome)).toEqual(['compliant']);
    const [deleted] = judged('s3-DeleteBucketPolicy.awsdocs-s3-2015-doc.json');
    expect(deleted).toMatchObject({ outcome: 'violation', state: { policy: null }, ref: { arn: 'arn:aws:s3:::myawsbucket' } });
  });

  it('reads the policy text of a Config item, and no policy from policyText null', () => {
    const [withPolicy] = judged('config-ConfigurationItemChangeNotification.s3-public-policy-constructed.json');
    expect(withPolicy).toMatchObject({ outcome: 'violation', ref: { arn: 'arn:aws:s3:::rampart-demo-site' } });
    expect((withPolicy as { state: TlsOnlyState }).state.policy).toContain('"Sid":"PublicRead"');
    const [none] = judged('config-ConfigurationItemChangeNotification.s3-aes256-constructed.json');
    expect(none).toMatchObject({ outcome: 'violation', state: { policy: null } });
  });

  it('takes a new bucket as one without a policy', () => {
    expect(judged('s3-CreateBucket.eu-west-1-constructed.json')).toMatchObject([{ outcome: 'violation', state: { policy: null } }]);
  });
});

describe('planTlsOnly', () => {
  it('gives a bucket without a policy one holding only the TLS statement', () => {
    const plan = planTlsOnly(finding(), { policy: null }, POLICY);

    expect(plan.change).toEqual({
      service: 's3',
      operation: 'PutBucketPolicy',
      region: 'eu-west-1',
      input: {
        Bucket: 'logs',
        ExpectedBucketOwner: ACCOUNT,
        Policy: JSON.stringify({ Version: '2012-10-17', Statement: [tlsOnlyStatement(ARN)] }),
      },
    });
    expect(tlsOnlyStatement(ARN)).toEqual({ Sid: TLS_ONLY_SID, ...TLS_DENY });
  });

  it('adds one statement and keeps every other statement and member of the document as they were', () => {
    const current = JSON.stringify({
      Id: 'Policy1',
      Version: '2008-10-17',
      Statement: [PARTNER, { Sid: 'Public', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `${ARN}/*` }],
    });

    const plan = planTlsOnly(finding(), { policy: current }, POLICY);

    const written = JSON.parse(String(plan.change?.input.Policy)) as { Statement: unknown[] };
    const before = JSON.parse(current) as { Statement: unknown[] };
    expect(written).toEqual({ ...before, Statement: [...before.Statement, tlsOnlyStatement(ARN)] });
  });

  it('keeps a policy of one statement object as that statement', () => {
    const plan = planTlsOnly(finding(), { policy: JSON.stringify({ Version: '2012-10-17', Statement: PARTNER }) }, POLICY);

    expect(JSON.parse(String(plan.change?.input.Policy))).toEqual({ Version: '2012-10-17', Statement: [PARTNER, tlsOnlyStatement(ARN)] });
  });

  it('never rewrites a statement of its Sid that someone changed: a human looks', () => {
    const changed = { ...tlsOnlyStatement(ARN), Resource: `${ARN}/*` };

    expect(planTlsOnly(finding(), { policy: doc(PARTNER, changed) }, POLICY)).toEqual({
      change: null,
      reason: expect.stringContaining(`has a ${TLS_ONLY_SID} statement that no longer denies`),
    });
  });

  it('refuses a fix over the 20 KB policy limit, saying so', () => {
    const current = nearLimit();
    expect(new TextEncoder().encode(current).length).toBe(BUCKET_POLICY_MAX_BYTES - 100);

    const plan = planTlsOnly(finding(), { policy: current }, POLICY);

    expect(plan).toEqual({
      change: null,
      reason: expect.stringMatching(
        /^the policy with the TLS statement would be \d+ bytes, over the 20 KB bucket policy limit \(20480 bytes\)$/,
      ),
    });
  });

  it('plans nothing for a compliant bucket', () => {
    expect(planTlsOnly(finding(), { policy: doc(TLS_DENY) }, POLICY)).toEqual({
      change: null,
      reason: 'the bucket policy already denies requests without TLS',
    });
  });

  it('rates the fix of a bucket serving a static website high: S3 website endpoints speak HTTP only', () => {
    expect(s3TlsOnlyRemediator.risk(finding({ observed: { website: true } }), POLICY)).toBe('high');
    expect(s3TlsOnlyRemediator.risk(finding({ observed: { website: false } }), POLICY)).toBe('low');
  });
});

describe('s3-tls-only against a stateful S3 fake', () => {
  let aws: FakeAws;
  const sts = mockClient(STSClient);
  let ctx: RemediationContext;
  const OTHERS = doc(PARTNER, { Sid: 'DenyDeletes', Effect: 'Deny', Principal: '*', Action: 's3:DeleteBucket', Resource: ARN });

  beforeEach(() => {
    aws = new FakeAws();
    sts.reset();
    sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/ops` });
    aws.buckets.set('logs', { region: 'eu-west-1', policy: OTHERS });
    aws.buckets.set('bare', { region: 'us-east-1' });
    aws.buckets.set('site', { region: 'us-east-1', website: true, tags: { team: 'web' } });
    ctx = {
      controls: ALL_CONTROLS,
      policy: POLICY_ON,
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

  /** An independent read-back: the policy S3 answers, parsed here, not through the control. */
  async function policyOf(bucket: string): Promise<{ Statement: unknown[] }> {
    const out = await createAwsClients({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } })
      .get(S3Client)
      .send(new GetBucketPolicyCommand({ Bucket: bucket }));
    return JSON.parse(out.Policy!) as { Statement: unknown[] };
  }

  it('reads the policy, whether the bucket serves a website, and its tags', async () => {
    expect(await s3TlsOnly.readState(REF, ctx.clients)).toEqual({ status: 'known', state: { policy: OTHERS, website: false }, tags: {} });
    expect(await s3TlsOnly.readState(bucketRef('site', 'us-east-1'), ctx.clients)).toEqual({
      status: 'known',
      state: { policy: null, website: true },
      tags: { team: 'web' },
    });
    expect(await s3TlsOnly.readState(bucketRef('gone', 'us-east-1'), ctx.clients)).toEqual({
      status: 'gone',
      reason: 'bucket gone does not exist',
    });
  });

  it('merges the TLS statement into a policy of other statements, which survive intact (read back)', async () => {
    const outcome = await remediate(finding(), ctx);

    expect(outcome).toMatchObject({
      outcome: 'remediated',
      change: { operation: 'PutBucketPolicy', input: { Bucket: 'logs', ExpectedBucketOwner: ACCOUNT } },
    });
    const after = await policyOf('logs');
    expect(after.Statement.slice(0, 2)).toEqual(JSON.parse(OTHERS).Statement);
    expect(after.Statement).toEqual([...(JSON.parse(OTHERS) as { Statement: unknown[] }).Statement, tlsOnlyStatement(ARN)]);
    expect(aws.writes).toEqual(['PutBucketPolicy logs']);
  });

  it('gives a bucket without a policy one of the TLS statement alone', async () => {
    const outcome = await remediate(finding({ resourceArn: 'arn:aws:s3:::bare', region: 'us-east-1' }), ctx);

    expect(outcome.outcome).toBe('remediated');
    expect((await policyOf('bare')).Statement).toEqual([tlsOnlyStatement('arn:aws:s3:::bare')]);
  });

  it('fails a bucket whose policy would pass the size limit, and writes nothing', async () => {
    aws.buckets.set('logs', {
      region: 'eu-west-1',
      policy: nearLimit(),
    });

    const outcome = await remediate(finding(), ctx);

    expect(outcome).toMatchObject({
      outcome: 'failed',
      change: null,
      reason: expect.stringContaining('over the 20 KB bucket policy limit'),
    });
    expect(aws.s3.commandCalls(PutBucketPolicyCommand)).toHaveLength(0);
  });

  it('rampart scan finds the buckets without a TLS deny; the website bucket asks a human, the others are fixed', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'rampart-tls-'));
    const file = join(tmp, 'policy.yaml');
    writeFileSync(file, 'controls:\n  s3-tls-only: {}\n');

    const scan = await runCli(['scan', '--json', '--config', file, '--region', 'us-east-1']);
    const findings = jsonLines(scan.stdout).filter((l) => l.type === 'finding');

    expect(findings.map((f) => [f.resourceArn, f.risk]).sort()).toEqual([
      ['arn:aws:s3:::bare', 'low'],
      ['arn:aws:s3:::logs', 'low'],
      ['arn:aws:s3:::site', 'high'],
    ]);
    const logs = findings.find((f) => f.resourceArn === ARN)!;
    const fixed = await runCli(['remediate', '--json', '--config', file, '--region', 'us-east-1', '--finding', JSON.stringify(logs)]);
    expect(JSON.parse(fixed.stdout)).toMatchObject({ outcome: 'remediated', resourceArn: ARN });
    expect((await policyOf('logs')).Statement).toHaveLength(3);
  });
});
