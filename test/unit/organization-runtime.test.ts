import { ListParentsCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { assumedRoleCredentials, findingSessionName, sessionName } from '../../core/assume-role';
import { createClientFactory } from '../../core/aws';
import type { Policy } from '../../core/policy';
import type { WorkflowInput } from '../../core/workflow';
import { makeDetectorHandler } from '../../handlers/detector';
import type { GuardDeps } from '../../handlers/deps';
import { makeSweepHandler } from '../../handlers/sweep';
import { makeWorkflowHandlers } from '../../handlers/workflow';
import { FakeAws, FakeStepFunctions, FakeSts } from '../fakes';
import { inMemoryGuardDeps } from '../guard-deps';
import { fixture, policy as parse } from '../helpers';

const HUB = '111122223333';
const MEMBER = '444455556666';
const OTHER = '777788889999';
const SANDBOX_OU = 'ou-ab12-sandbox1';

const POLICY = parse({
  organization: { id: 'o-a1b2c3d4e5', regions: ['us-east-1'] },
  controls: { 's3-default-encryption': { algorithm: 'AES256' } },
  overrides: [{ organizationalUnits: [SANDBOX_OU], mode: 'dry-run' }],
});
const AES256 = { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' as const } };

/** The S3 event of the fixture, as CloudTrail delivers it from another account. */
function eventFrom(account: string, bucket = 'rampart-demo-logs'): never {
  const event = fixture<{ account: string; detail: Record<string, unknown> }>('s3-DeleteBucketEncryption-constructed.json');
  event.account = account;
  const detail = event.detail as { recipientAccountId: string; requestParameters: { bucketName: string }; resources: unknown[] };
  detail.recipientAccountId = account;
  detail.requestParameters.bucketName = bucket;
  detail.resources = [{ accountId: account, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` }];
  return event as never;
}

/** The hub's deps as its functions build them from their environment, over in-memory stores. */
function hubDeps(policy: Policy, env: Record<string, string> = {}): GuardDeps {
  return inMemoryGuardDeps(policy, env, { account: HUB, clock: () => new Date('2024-05-14T10:03:00Z') });
}

describe('a hub guarding member accounts', () => {
  const sfn = mockClient(SFNClient);
  const organizations = mockClient(OrganizationsClient);
  let aws: FakeAws;
  let sts: FakeSts;

  beforeEach(() => {
    aws = new FakeAws();
    sts = new FakeSts(aws.world);
    sfn.reset();
    new FakeStepFunctions(sfn);
    organizations.reset();
    organizations.on(ListParentsCommand).callsFake((input: { ChildId: string }) => {
      if (input.ChildId === OTHER) return { Parents: [{ Id: SANDBOX_OU, Type: 'ORGANIZATIONAL_UNIT' }] };
      if (input.ChildId === SANDBOX_OU) return { Parents: [{ Id: 'r-ab12', Type: 'ROOT' }] };
      return { Parents: [{ Id: 'r-ab12', Type: 'ROOT' }] };
    });
  });
  afterEach(() => {
    aws.restore();
    sts.mock.restore();
  });
  afterAll(() => {
    sfn.restore();
    organizations.restore();
  });

  /** The workflow's input of each execution started. */
  const started = () => sfn.commandCalls(StartExecutionCommand).map((c) => JSON.parse(String(c.args[0].input.input)) as WorkflowInput);

  it("turns an event of a member account into a finding in the hub and a fix in that account, with that account's role", async () => {
    aws.services.s3.bucketsOf(MEMBER).set('rampart-demo-logs', {});
    aws.buckets.set('rampart-demo-logs', { rule: AES256 });
    const deps = hubDeps(POLICY);

    const summary = await makeDetectorHandler(() => deps)(eventFrom(MEMBER));

    expect(summary.findings).toHaveLength(1);
    const record = await deps.findings.get(summary.findings[0]!);
    expect(record?.finding).toMatchObject({ account: MEMBER, resourceArn: 'arn:aws:s3:::rampart-demo-logs' });
    expect(sts.calls).toEqual([{ roleArn: `arn:aws:iam::${MEMBER}:role/RampartRead`, session: 'rampart-detect-s3-default-encryption' }]);

    const [input] = started();
    const workflow = makeWorkflowHandlers(() => deps);
    const plan = await workflow.plan(input!);
    if (!('change' in plan)) throw new Error(`expected a change, got ${JSON.stringify(plan)}`);
    expect(await workflow.apply({ ...input!, change: plan.change })).toEqual({});
    expect(await workflow.verify({ ...input!, change: plan.change })).toMatchObject({ outcome: 'remediated' });

    expect(aws.world.accountWrites).toEqual([{ account: MEMBER, write: 'PutBucketEncryption rampart-demo-logs' }]);
    expect(aws.services.s3.bucketsOf(MEMBER).get('rampart-demo-logs')?.rule).toEqual(AES256);
    // the fix's session names the finding: the member's CloudTrail says why
    const session = findingSessionName(record!.id);
    expect(sts.calls).toContainEqual({ roleArn: `arn:aws:iam::${MEMBER}:role/RampartRemediate`, session });
    expect(sts.calls).toContainEqual({ roleArn: `arn:aws:iam::${MEMBER}:role/RampartRead`, session });
    expect(session).toBe(`rampart-${record!.id}`);
  });

  it('gives the same bucket name in two accounts two findings, each fixed in its own account', async () => {
    aws.services.s3.bucketsOf(MEMBER).set('shared-name', {});
    aws.services.s3.bucketsOf(OTHER).set('shared-name', {});
    const deps = hubDeps({ ...POLICY, overrides: [] });
    const detector = makeDetectorHandler(() => deps);

    const [a, b] = [await detector(eventFrom(MEMBER, 'shared-name')), await detector(eventFrom(OTHER, 'shared-name'))];

    expect(a.findings).toHaveLength(1);
    expect(b.findings).toHaveLength(1);
    expect(a.findings[0]).not.toBe(b.findings[0]);
    const workflow = makeWorkflowHandlers(() => deps);
    for (const input of started()) {
      const plan = await workflow.plan(input);
      if ('change' in plan) await workflow.apply({ ...input, change: plan.change });
    }
    expect(aws.world.accountWrites).toEqual([
      { account: MEMBER, write: 'PutBucketEncryption shared-name' },
      { account: OTHER, write: 'PutBucketEncryption shared-name' },
    ]);
  });

  it("starts a workflow in the mode of the account's OU override", async () => {
    aws.services.s3.bucketsOf(MEMBER).set('shared-name', {});
    aws.services.s3.bucketsOf(OTHER).set('shared-name', {});
    const deps = hubDeps(POLICY);
    const detector = makeDetectorHandler(() => deps);

    await detector(eventFrom(MEMBER, 'shared-name'));
    await detector(eventFrom(OTHER, 'shared-name'));

    // the other account is below the sandbox OU (ListParents): its override says dry-run
    expect(started().map((i) => [i.finding.account, i.mode])).toEqual([
      [MEMBER, 'enforce'],
      [OTHER, 'dry-run'],
    ]);
  });

  it('reports an account whose role cannot be assumed, naming it, and still judges the others', async () => {
    aws.services.s3.bucketsOf(MEMBER).set('rampart-demo-logs', {});
    sts.unreachable.add(OTHER);
    const deps = hubDeps(POLICY);
    const detector = makeDetectorHandler(() => deps);

    await expect(detector(eventFrom(OTHER))).rejects.toThrow(
      new RegExp(`cannot assume arn:aws:iam::${OTHER}:role/RampartRead \\(account ${OTHER}\\): AccessDenied`),
    );
    expect((await detector(eventFrom(MEMBER))).findings).toHaveLength(1);
    // the sweep page reports it and succeeds: one account never ends the organization sweep
    const page = await makeSweepHandler(() => deps)({ control: 's3-default-encryption', account: OTHER, regions: ['us-east-1'] });
    expect(page).toMatchObject({ account: OTHER, resources: 0, errors: 0 });
    expect(page.unreachable?.error).toMatch(new RegExp(`cannot assume arn:aws:iam::${OTHER}:role/RampartRead .*AccessDenied`));
  });

  it('sweeps one member account through its read role, without the watchdog of every open finding', async () => {
    aws.services.s3.bucketsOf(MEMBER).set('a', {});
    aws.services.s3.bucketsOf(MEMBER).set('b', { rule: AES256 });
    aws.buckets.set('hub-only', {});
    const deps = hubDeps(POLICY);

    const out = await makeSweepHandler(() => deps)({ control: 's3-default-encryption', account: MEMBER, regions: ['us-east-1'] });

    expect(out).toMatchObject({ account: MEMBER, resources: 2, findings: 1, started: 1, errors: 0 });
    expect(started().map((i) => [i.finding.account, i.finding.resourceArn])).toEqual([[MEMBER, 'arn:aws:s3:::a']]);
    expect(new Set(sts.calls.map((c) => c.session))).toEqual(new Set(['rampart-sweep']));
  });

  it("uses the function's own credentials for the hub's own account", async () => {
    aws.buckets.set('rampart-demo-logs', {});
    const deps = hubDeps(POLICY);

    expect((await makeDetectorHandler(() => deps)(eventFrom(HUB))).findings).toHaveLength(1);
    expect(sts.calls).toEqual([]);
  });

  it('a single-account guard never acts in another account: it refuses the fix', async () => {
    aws.services.s3.bucketsOf(MEMBER).set('rampart-demo-logs', {});
    aws.buckets.set('rampart-demo-logs', {});
    const deps = hubDeps(POLICY, { RAMPART_HUB: 'false' });
    await makeDetectorHandler(() => deps)(eventFrom(MEMBER));
    const [input] = started();

    const plan = await makeWorkflowHandlers(() => deps).plan(input!);

    expect(plan).toMatchObject({
      done: { outcome: 'failed', reason: expect.stringMatching(/refused: the finding is in account 444455556666/) },
    });
    expect(sts.calls).toEqual([]);
    expect(aws.world.accountWrites).toEqual([]);
  });
});

describe('assumed-role credentials', () => {
  const stsClient = () => new STSClient({ region: 'us-east-1' });
  let aws: FakeAws;
  let sts: FakeSts;
  beforeEach(() => {
    aws = new FakeAws();
    sts = new FakeSts(aws.world);
  });
  afterEach(() => {
    aws.restore();
    sts.mock.restore();
  });

  it('assumes each role and session once, and again only when the credentials are about to expire', async () => {
    let now = new Date('2024-05-14T10:00:00Z');
    sts.now = () => now;
    const provider = assumedRoleCredentials({
      hubAccount: HUB,
      roles: { read: 'RampartRead', remediate: 'RampartRemediate' },
      sts: stsClient,
      clock: () => now,
    });
    const factory = createClientFactory({ credentialsProvider: provider });
    const resolve = async (region: string) => {
      const clients = factory.clientsFor({ account: MEMBER, region });
      const credentials = provider.credentialsFor({ account: MEMBER, region }) as () => Promise<{ accessKeyId: string }>;
      return { clients, key: (await credentials()).accessKeyId };
    };

    const first = await resolve('us-east-1');
    const second = await resolve('eu-west-1');
    expect(second.key).toBe(first.key);
    expect(sts.calls).toHaveLength(1);

    now = new Date(now.getTime() + 56 * 60_000); // within five minutes of the hour's expiry
    const third = await resolve('us-east-1');
    expect(third.key).not.toBe(first.key);
    expect(sts.calls).toHaveLength(2);
  });

  it('does not keep a failed assumption', async () => {
    sts.unreachable.add(MEMBER);
    const provider = assumedRoleCredentials({ roles: { read: 'RampartRead', remediate: 'RampartRemediate' }, sts: stsClient });
    const credentials = () => (provider.credentialsFor({ account: MEMBER, region: 'us-east-1' }) as () => Promise<unknown>)();

    await expect(credentials()).rejects.toMatchObject({ name: 'AssumeRoleError', account: MEMBER, code: 'AccessDenied' });
    sts.unreachable.delete(MEMBER);
    await expect(credentials()).resolves.toMatchObject({ accountId: MEMBER });
    expect(sts.calls).toHaveLength(2);
  });

  it('names sessions within what STS accepts', () => {
    expect(sessionName('rampart detect/s3')).toBe('rampart-detect-s3');
    expect(sessionName('x'.repeat(100))).toHaveLength(64);
    expect(findingSessionName('0123456789abcdef01234567')).toMatch(/^rampart-0123456789abcdef01234567$/);
    expect(sessionName('a')).toMatch(/^[\w+=,.@-]{2,64}$/);
  });
});
